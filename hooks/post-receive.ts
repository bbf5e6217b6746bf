// post-receive: announces what landed (DESIGN.md "Notifications"). It resolves every oid now
// (refs may move again right after), spools the push event durably, starts a detached sender
// with stdio closed and returns: the push never waits on Slack, nor on reading commits and
// diffstats, which the sender does. Its exit code cannot undo a push,
// so a failure to spool is a WARNING line, the event is kept beside the spool
// (unspooled.jsonl) for `notify --flush`, and the push stays landed.
import { pushOption, readPushOptions, resolvePusher } from '../core/identity.js';
import { parseRefUpdates } from '../core/ref-update.js';
import { identityNameOf, readConfig, readObjects } from '../git/git.js';
import { readPushEvent } from './read-notification.js';
import { hookGitOptions, readServerConfig } from './read-push.js';
import { runHook } from './run-hook.js';
import { keepUnspooled, redact, repoName, spoolDir, spoolEvent, startSender, unspooledFile, webhookUrlFrom } from './spool.js';

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
    const event = readPushEvent(updates, git, config.claimsRef, pusher.id ?? 'unknown', repoName(gitDir), Date.now());
    try {
      spoolEvent(gitDir, event);
    } catch (error) {
      // Not lost: kept beside the spool for doctor to report and notify --flush to send.
      const why = redact((error as Error).message.split('\n')[0] ?? '', url);
      try {
        keepUnspooled(gitDir, event);
      } catch {
        throw error;
      }
      return { lines: [`WARNING: post-receive: the push landed, but its notification could not be spooled (${why}); it is kept in ${unspooledFile(gitDir)}; fix: free the disk or fix ${spoolDir(gitDir)}, then agent-hooks notify --flush ${gitDir}`], exitCode: 0 };
    }
    startSender(gitDir);
    return { lines: [], exitCode: 0 };
  } catch (error) {
    return { lines: [`WARNING: post-receive: the push landed, but its notification could not be spooled or kept (${redact((error as Error).message.split('\n')[0] ?? '', url)}); it is lost; fix: check the disk and ${git.env!.GIT_DIR}/agent-hooks/spool, then agent-hooks doctor`], exitCode: 0 };
  }
});
