// The hook stub: a few lines of sh that exec the installed bundle with the node that installed
// it (husky's habit: the stub is tiny, the runner owns the behaviour).
import { shellQuote } from './files.js';

const MARKER = /^# agent-hooks (\S+): /m;
const EXEC = /^exec '((?:[^']|'\\'')*)' '((?:[^']|'\\'')*)' "\$@"$/m;

/** The stub text for one hook: shebang, version line, exec line. */
export function formatStub(version: string, nodePath: string, bundlePath: string): string {
  return [
    '#!/bin/sh',
    `# agent-hooks ${version}: installed by \`agent-hooks install\`; remove with \`agent-hooks uninstall\``,
    `exec ${shellQuote(nodePath)} ${shellQuote(bundlePath)} "$@"`,
    '',
  ].join('\n');
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
