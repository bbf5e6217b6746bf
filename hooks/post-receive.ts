// post-receive: announces what landed (DESIGN.md "Notifications"). It resolves every oid now
// (refs may move again right after), spools the push event durably, starts a detached sender
// with stdio closed and returns: the push never waits on Slack, nor on reading commits and
// diffstats, which the sender does. Its exit code cannot undo a push,
// so a failure to spool is a WARNING line, and the push stays landed.
import { pushOption, readPushOptions, resolvePusher } from '../core/identity.js';
import { parseRefUpdates } from '../core/ref-update.js';
import { identityNameOf, readConfig, readObjects } from '../git/git.js';
import { readPushEvent } from './read-notification.js';
import { hookGitOptions, readServerConfig } from './read-push.js';
import { runHook } from './run-hook.js';
import { redact, repoName, spoolEvent, startSender, webhookUrlFrom } from './spool.js';

void runHook('post-receive', import.meta.url, (stdin) => {
  const git = hookGitOptions(process.env);
  const settings = readConfig('^agenthooks\\.', git);
  const url = webhookUrlFrom(settings.get('agenthooks.slack.webhookurl')?.at(-1), process.env);
  if (!url) return { lines: [], exitCode: 0 };
  try {
    const updates = parseRefUpdates(stdin.toString('utf8'));
    if (updates.length === 0) return { lines: [], exitCode: 0 };
    const config = readServerConfig(git, settings);
    const pushOptions = readPushOptions(process.env);
    const tip = updates.find((u) => !/^0+$/.test(u.newOid))?.newOid;
    const needsCommitter = pushOption(pushOptions, 'agent') === undefined;
    const tipObject = needsCommitter && tip ? readObjects([tip], git).get(tip) : undefined;
    const pusher = resolvePusher({ env: process.env, pushOptions, committerName: tipObject ? identityNameOf(tipObject) : undefined, requireAuthenticated: false });
    const gitDir = git.env!.GIT_DIR!;
    spoolEvent(gitDir, readPushEvent(updates, git, config.claimsRef, pusher.id ?? 'unknown', repoName(gitDir), Date.now()));
    startSender(gitDir);
    return { lines: [], exitCode: 0 };
  } catch (error) {
    return { lines: [`WARNING: post-receive: the push landed, but its notification could not be spooled (${redact((error as Error).message.split('\n')[0] ?? '', url)}); fix: check the disk and ${git.env!.GIT_DIR}/agent-hooks/spool`], exitCode: 0 };
  }
});
