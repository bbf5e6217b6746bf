// `agent-hooks notify --flush <repo>` and `agent-hooks notify --test <repo>`.
import { buildSlackMessage } from '../core/notification.js';
import { formatTime } from '../core/text.js';
import { cleanGitEnv, readConfig } from '../git/git.js';
import { deliveryOptions, flushSpool, postMessage } from '../server/deliver.js';
import { redact, repoName, respoolUnspooled, webhookUrlFrom } from '../server/spool.js';
import { readRepo } from '../git/repo.js';
import { EXIT, type CommandResult } from '../core/result.js';

/**
 * `flush`: in the foreground, with progress, spools the events post-receive could only keep in
 * `unspooled/`, then sends the spool of a bare repo now. `test`: sends one test message and
 * reports Slack's answer. The webhook URL is never printed.
 */
export async function notify(path: string, mode: 'flush' | 'test'): Promise<CommandResult> {
  const repo = readRepo(path);
  const config = readConfig('^agenthooks\\.', { cwd: repo.gitDir, env: cleanGitEnv() });
  const url = webhookUrlFrom(config.get('agenthooks.slack.webhookurl')?.at(-1), process.env);
  if (!url) return { exitCode: EXIT.failed, lines: [`ERROR: no webhook URL; fix: git -C ${repo.path} config agenthooks.slack.webhookUrl <url> (or AGENT_HOOKS_SLACK_WEBHOOK_URL)`] };
  const lines: string[] = [];
  const options = deliveryOptions(process.env, (line) => process.stdout.write(`${redact(line, url)}\n`), config.get('agenthooks.web.commiturl')?.at(-1));
  if (mode === 'test') {
    const now = formatTime(Date.now());
    const message = buildSlackMessage({ id: `test-${now}`, time: now, repo: repoName(repo.gitDir), pusher: 'agent-hooks notify --test', refs: [], claims: [] });
    const result = await postMessage(url, message, options.timeoutMs, 0);
    if (result.kind === 'sent') return { exitCode: EXIT.ok, lines: ['Slack answered 200 ok: the test message was delivered'] };
    return { exitCode: EXIT.failed, lines: [`ERROR: Slack did not take the test message: ${result.reason}`] };
  }
  const respooled = respoolUnspooled(repo.gitDir);
  if (respooled > 0) lines.push(`${respooled} notifications that could not be spooled when their push landed are spooled now`);
  const report = await flushSpool(repo.gitDir, url, options);
  if (report.busy) lines.push('another sender is working on the spool; it will send what is there');
  lines.push(`${report.sent} sent, ${report.setAside} set aside (see agent-hooks/spool/failed), ${report.left} left in the spool`);
  return { exitCode: report.left > 0 && !report.busy ? EXIT.failed : EXIT.ok, lines };
}
