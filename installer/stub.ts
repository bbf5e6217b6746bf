// The hook stub: a few lines of sh that exec the installed bundle with the node that installed
// it (husky's habit: the stub is tiny, the runner owns the behaviour).
import { shellQuote } from './files.js';

const MARKER = /^# agent-hooks (\S+): /m;
const EXEC = /^exec '((?:[^']|'\\'')*)' '((?:[^']|'\\'')*)' "\$@"$/m;

/**
 * The variable the stub moves `NODE_EXTRA_CA_CERTS` to. Node 20 loads its whole root store at
 * start when that variable is set (measured here: `node -e 0` 45 ms without, 160 ms with), and
 * no hook process speaks TLS; {@link restoreCaCerts} hands it back to what the hook starts.
 */
export const SAVED_CA_CERTS = 'AGENT_HOOKS_NODE_EXTRA_CA_CERTS';

/** What a stub may skip: `post-receive` starts no node at all when there is nothing to announce. */
export interface StubOptions {
  /**
   * For post-receive: the path of the chained hook. The stub exits 0 without starting node when
   * no webhook URL is configured (`agenthooks.slack.webhookUrl`, `AGENT_HOOKS_SLACK_WEBHOOK_URL`)
   * and no chained hook is there to run.
   */
  notifyOnlyChained?: string;
  /** Variables the stub exports for the hook (e.g. AGENT_HOOKS_LAYOUT=gitlab). */
  env?: Record<string, string>;
}

/** The stub text for one hook: shebang, version line, CA hand-over, optional quick exit, exec line. */
export function formatStub(version: string, nodePath: string, bundlePath: string, options: StubOptions = {}): string {
  const lines = [
    '#!/bin/sh',
    `# agent-hooks ${version}: installed by \`agent-hooks install\`; remove with \`agent-hooks uninstall\``,
  ];
  if (options.notifyOnlyChained !== undefined) {
    lines.push(
      '# nothing to announce and no chained hook: no node start',
      `if [ -z "\${AGENT_HOOKS_SLACK_WEBHOOK_URL-}" ] && [ ! -x ${shellQuote(options.notifyOnlyChained)} ] && ! git config --get agenthooks.slack.webhookUrl >/dev/null 2>&1; then exit 0; fi`,
    );
  }
  for (const [name, value] of Object.entries(options.env ?? {})) lines.push(`${name}=${shellQuote(value)}; export ${name}`);
  lines.push(
    '# node starts ~100 ms faster without NODE_EXTRA_CA_CERTS; the hook gives it back to what it starts',
    `if [ -n "\${NODE_EXTRA_CA_CERTS+set}" ]; then ${SAVED_CA_CERTS}=$NODE_EXTRA_CA_CERTS; export ${SAVED_CA_CERTS}; unset NODE_EXTRA_CA_CERTS; fi`,
    `exec ${shellQuote(nodePath)} ${shellQuote(bundlePath)} "$@"`,
    '',
  );
  return lines.join('\n');
}

/**
 * Puts back the `NODE_EXTRA_CA_CERTS` the stub set aside (see {@link SAVED_CA_CERTS}), so chained
 * hooks, the test process and the Slack sender get the environment the hook was started with.
 * Mutates `env` (process.env in a hook).
 */
export function restoreCaCerts(env: NodeJS.ProcessEnv): void {
  const saved = env[SAVED_CA_CERTS];
  if (saved === undefined) return;
  env.NODE_EXTRA_CA_CERTS = saved;
  delete env[SAVED_CA_CERTS];
}

/** What a stub says, or undefined when the text is not an agent-hooks stub. */
export interface ParsedStub {
  version: string;
  nodePath?: string;
  bundlePath?: string;
}

/** Parses a hook file written by {@link formatStub}; undefined for anyone else's hook. */
export function parseStub(text: string): ParsedStub | undefined {
  const marker = MARKER.exec(text);
  if (!marker) return undefined;
  const exec = EXEC.exec(text);
  const unquote = (s: string) => s.replace(/'\\''/g, "'");
  return { version: marker[1]!, nodePath: exec ? unquote(exec[1]!) : undefined, bundlePath: exec ? unquote(exec[2]!) : undefined };
}
