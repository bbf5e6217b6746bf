// The detached sender that post-receive starts: `node notify-sender.mjs <git-dir>`. Its stdio is
// closed; what it does goes to `<git-dir>/agent-hooks/notify.log`, with the webhook URL redacted.
import { appendFileSync, mkdirSync } from 'node:fs';
import { formatTime } from '../core/text.js';
import { readConfig } from '../git/git.js';
import { deliveryOptions, flushSpool } from '../server/deliver.js';
import { redact, webhookUrlFrom } from '../server/spool.js';
import { statePaths } from '../server/state.js';

const gitDir = process.argv[2]!;
const config = readConfig('^agenthooks\\.', { env: { ...process.env, GIT_DIR: gitDir } });
const url = webhookUrlFrom(config.get('agenthooks.slack.webhookurl')?.at(-1), process.env);
const state = statePaths(gitDir);
const log = (line: string) => {
  try {
    mkdirSync(state.home, { recursive: true });
    appendFileSync(state.notifyLog, `${formatTime(Date.now())} ${redact(line, url)}\n`);
  } catch {
    // nowhere to log: the spool still holds every message
  }
};
if (url) {
  flushSpool(gitDir, url, deliveryOptions(process.env, log, config.get('agenthooks.web.commiturl')?.at(-1)))
    .then((r) => log(r.busy ? 'another sender holds the spool' : `done: ${r.sent} sent, ${r.setAside} set aside, ${r.left} left`))
    .catch((error: Error) => log(`sender failed: ${error.message}`));
}
