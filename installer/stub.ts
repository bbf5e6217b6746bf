// The hook stub: a few lines of sh that exec the installed bundle with the node that installed
// it (husky's habit: the stub is tiny, the runner owns the behaviour).
import { IDENTITY_CONTEXT_VARS } from '../core/identity.js';
import { SAVED_CA_CERTS } from '../server/ca-certs.js';
import { dirname, join } from 'node:path';
import { shellQuote } from './files.js';

const MARKER = /^# agent-hooks (\S+): /m;
const EXEC = /^exec '((?:[^']|'\\'')*)' '((?:[^']|'\\'')*)' "\$@"$/m;

/** What a stub sets for its hook. */
export interface StubOptions {
  /** Variables the stub exports for the hook (e.g. AGENT_HOOKS_LAYOUT=gitlab). */
  env?: Record<string, string>;
  /**
   * pre-receive only (`install --resident`): hand the push to the resident checker when its
   * socket is there (server/checker.ts), through {@link RESIDENT_CLIENT}; the bundle runs when
   * there is no checker, no perl, or the checker declines, fails or does not answer in time.
   */
  resident?: { socket: string };
}

/**
 * The resident checker's client, in perl with no module (the `Socket` module alone costs ~5 ms of
 * CPU; perl itself ~1.5 ms, node ~20): reads stdin, sends `agent-hooks-check 1 <env bytes> <cwd
 * bytes> <stdin bytes>` and those bytes over the unix socket (AF_UNIX and SOCK_STREAM are 1 on
 * Linux), prints the answer to stderr and exits with its code. Anything else (no socket, a
 * refused connection, a broken or declined answer, no answer within AGENT_HOOKS_RESIDENT_TIMEOUT
 * seconds, default 30) runs the bundle with the same stdin: the checker may only ever make a push
 * faster, never judge it differently or not at all. After a timeout the client removes the
 * socket, so one stuck checker costs one push the wait, not every push.
 */
export const RESIDENT_CLIENT = [
  'my ($node, $bundle, $sock, @args) = @ARGV;',
  'binmode STDIN; binmode STDERR; $SIG{PIPE} = "IGNORE";',
  'my $in = do { local $/; <STDIN> }; $in = "" unless defined $in;',
  'sub direct { open(my $p, "|-", $node, $bundle, @args) or exit 1; binmode $p; print $p $in; close $p; exit($? & 127 ? 1 : $? >> 8); }',
  'my $cwd = readlink("/proc/self/cwd"); direct() unless defined $cwd;',
  'my $env = join("", map { "$_=$ENV{$_}\\0" } sort keys %ENV);',
  'my $req = "agent-hooks-check 1 " . length($env) . " " . length($cwd) . " " . length($in) . "\\n" . $env . $cwd . $in;',
  '# alarm() takes whole seconds: anything else would be alarm(0), no timeout at all.',
  'my $t = $ENV{AGENT_HOOKS_RESIDENT_TIMEOUT}; $t = 30 unless defined $t && $t =~ /\\A[1-9][0-9]{0,5}\\z/;',
  'my ($out, $s) = ("");',
  'my $ok = eval {',
  '  local $SIG{ALRM} = sub { die "timeout\\n" }; alarm($t);',
  '  # connect too: a listener that never accepts fills its queue, and a blocking connect would wait forever.',
  '  socket($s, 1, 1, 0) or die "socket\\n";',
  '  connect($s, pack("S", 1) . $sock . "\\0") or die "connect\\n";',
  '  for (my $at = 0; $at < length $req;) { my $w = syswrite($s, $req, 65536, $at); die "write\\n" unless defined $w; $at += $w; }',
  '  shutdown($s, 1);',
  '  while (1) { my $r = sysread($s, my $buf, 65536); die "read\\n" unless defined $r; last if $r == 0; $out .= $buf; }',
  '  alarm 0; 1;',
  '};',
  'alarm 0;',
  '# A checker that does not answer in time is stuck: later pushes go straight to the bundle (which starts a new one once it is gone).',
  'unlink($sock) if !$ok && $@ eq "timeout\\n";',
  'direct() unless $ok && $out =~ /\\A(\\d{1,3}) (\\d+)\\n/ && length($out) == length($&) + $2;',
  'syswrite(STDERR, substr($out, length($&))) if $2 > 0;',
  'exit $1;',
].join('\n');

/** The stub text for one hook: shebang, version line, exported variables, CA hand-over, exec line. */
export function formatStub(version: string, nodePath: string, bundlePath: string, options: StubOptions = {}): string {
  const lines = [
    '#!/bin/sh',
    `# agent-hooks ${version}: installed by \`agent-hooks install\`; remove with \`agent-hooks uninstall\``,
  ];
  for (const [name, value] of Object.entries(options.env ?? {})) lines.push(`${name}=${shellQuote(value)}; export ${name}`);
  lines.push(
    '# node starts ~100 ms faster without NODE_EXTRA_CA_CERTS; the hook gives it back to what it starts',
    `if [ -n "\${NODE_EXTRA_CA_CERTS+set}" ]; then ${SAVED_CA_CERTS}=$NODE_EXTRA_CA_CERTS; export ${SAVED_CA_CERTS}; unset NODE_EXTRA_CA_CERTS; fi`,
  );
  if (options.resident) {
    lines.push(
      '# --resident: the resident checker judges the push when it listens (no node starts); otherwise the bundle does, and starts it.',
      '# The socket is named relative to the hook\'s cwd, the git dir (a long path would not fit sun_path); without perl, no checker.',
      `sock=${shellQuote(options.resident.socket)}`,
      'if command -v perl >/dev/null 2>&1; then AGENT_HOOKS_RESIDENT=1; export AGENT_HOOKS_RESIDENT',
      `  if [ -S "$sock" ]; then exec perl -e ${shellQuote(RESIDENT_CLIENT)} ${shellQuote(nodePath)} ${shellQuote(bundlePath)} "$sock" "$@"; fi`,
      'fi',
    );
  }
  lines.push(
    `exec ${shellQuote(nodePath)} ${shellQuote(bundlePath)} "$@"`,
    '',
  );
  return lines.join('\n');
}

/**
 * The post-receive stub: plain sh, so no node starts while the pusher waits (DESIGN.md
 * "Notifications": spool, then send from a detached process). It runs the chained hook with the
 * same stdin; then, when a webhook URL is configured, writes a raw push event into the spool
 * (temp file, sync, rename: the pushed ref updates, the identity variables and push options, and
 * every ref's oid right now, since refs may move again; values from outside hex-encoded) and
 * starts the Slack sender detached,
 * with its stdio closed and without the hook's GIT_* variables. A spool that cannot be written
 * gets a WARNING line and the event goes to `agent-hooks/unspooled/` for `notify --flush`.
 * Raw events are read by hooks/raw-event.ts.
 */
export function formatPostReceiveStub(version: string, nodePath: string, senderPath: string, chainedPath: string, landerPath = join(dirname(senderPath), 'lander.mjs')): string {
  // Every value that comes from outside (identity variables and their markers, push options) is
  // written as hex (`od`), so no byte of it can start a line of its own (issue 13 item 9).
  const vars = IDENTITY_CONTEXT_VARS.map((v) => `  if [ -n "\${${v}+set}" ]; then printf 'env ${v}=%s\\n' "$(hex "$${v}")"; fi`);
  return [
    '#!/bin/sh',
    `# agent-hooks ${version}: installed by \`agent-hooks install\`; remove with \`agent-hooks uninstall\``,
    '# post-receive in sh: the push never waits for node; the Slack sender does the rest, detached',
    `node=${shellQuote(nodePath)}`,
    `sender=${shellQuote(senderPath)}`,
    `chained=${shellQuote(chainedPath)}`,
    // The ref updates read by the shell itself, and the git dir from $PWD: no `cat` and no
    // subshell, two processes fewer on every push (issue 18).
    "nl='",
    "'",
    "input=''",
    'while IFS= read -r line || [ -n "$line" ]; do input="$input${input:+$nl}$line"; done',
    'status=0',
    'if [ -x "$chained" ]; then printf \'%s\\n\' "$input" | "$chained" "$@" || status=$?;',
    'elif [ -e "$chained" ] || [ -L "$chained" ]; then echo "ERROR: post-receive: the chained hook $chained (installed before agent-hooks) cannot run; fix: ls -l $chained: make it executable (chmod +x) or fix its link, or remove it" >&2; status=1; fi',
    '[ -n "$input" ] || exit $status',
    'case "${GIT_DIR:-.}" in /*) dir=$GIT_DIR ;; .) dir=$PWD ;; *) dir=$PWD/$GIT_DIR ;; esac',
    ...formatLanderStart(landerPath),
    '[ -n "${AGENT_HOOKS_SLACK_WEBHOOK_URL-}" ] || git config --get agenthooks.slack.webhookUrl >/dev/null 2>&1 || exit $status',
    // One clock reading for the whole name: two `date` calls can straddle a second, and a later
    // push would then sort before an earlier one (issue 17). A date without %N gives "...Z-".
    'stamp=$(date -u +%Y%m%dT%H%M%SZ-%N 2>/dev/null); case "$stamp" in *-[0-9]*) ;; *) stamp="${stamp%%-*}-";; esac',
    'name="$stamp-$$.raw"',
    'hex() { printf \'%s\' "$1" | od -An -v -tx1 | tr -d \' \\n\'; }',
    'record() {',
    '  printf \'agent-hooks push event 2\\ntime %s\\n\' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"',
    ...vars,
    '  i=0',
    '  while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do eval "option=\\${GIT_PUSH_OPTION_$i}"; printf \'option %s\\n\' "$(hex "$option")"; i=$((i + 1)); done',
    '  printf \'%s\\n\' "$input" | sed \'s/^/update /\'',
    '  git for-each-ref --format=\'other %(objectname) %(refname)\'',
    '}',
    'spool() { mkdir -p "$1" && record > "$1/.$name.tmp" && sync "$1/.$name.tmp" && mv "$1/.$name.tmp" "$1/$name" && sync "$1"; }',
    'if ! spool "$dir/agent-hooks/spool" 2>/dev/null; then',
    '  rm -f "$dir/agent-hooks/spool/.$name.tmp" 2>/dev/null',
    '  if spool "$dir/agent-hooks/unspooled" 2>/dev/null; then',
    '    echo "WARNING: post-receive: the push landed, but its notification could not be spooled in $dir/agent-hooks/spool; it is kept in $dir/agent-hooks/unspooled; fix: free the disk or fix that directory, then agent-hooks notify --flush $dir" >&2',
    '  else',
    '    echo "WARNING: post-receive: the push landed, but its notification could not be spooled or kept; it is lost; fix: check the disk and $dir/agent-hooks, then agent-hooks doctor $dir" >&2',
    '  fi',
    '  exit $status',
    'fi',
    '(',
    '  for v in $(env | sed -n \'s/^\\(GIT_[A-Za-z0-9_]*\\)=.*/\\1/p\'); do unset "$v"; done',
    '  trap \'\' HUP',
    '  if command -v setsid >/dev/null 2>&1; then exec setsid "$node" "$sender" "$dir"; else exec "$node" "$sender" "$dir"; fi',
    ') </dev/null >/dev/null 2>&1 &',
    'exit $status',
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
  if (!exec) {
    // The post-receive stub names node and the sender it starts.
    const node = /^node='((?:[^']|'\\'')*)'$/m.exec(text);
    const sender = /^sender='((?:[^']|'\\'')*)'$/m.exec(text);
    return { version: marker[1]!, nodePath: node ? unquote(node[1]!) : undefined, bundlePath: sender ? unquote(sender[1]!) : undefined };
  }
  return { version: marker[1]!, nodePath: unquote(exec[1]!), bundlePath: unquote(exec[2]!) };
}

/**
 * The lines of the post-receive stub that start the lander (DESIGN.md "The landing queue") after
 * any push while queue entries wait (`refs/land/`) and no live lander holds its pid lock
 * (`agent-hooks/workers/lander.lock/pid`, server/state.ts; a zombie counts as gone): detached,
 * stdio closed, without the hook's GIT_* variables, the repo on its command line. Two stubs that
 * start one each are harmless: the lander's own pid lock keeps one.
 */
export function formatLanderStart(landerPath: string): string[] {
  return [
    `lander=${shellQuote(landerPath)}`,
    'lander_running() {',
    '  pid=$(cat "$dir/agent-hooks/workers/lander.lock/pid" 2>/dev/null) || return 1',
    '  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1',
    '  [ "$(sed \'s/.*) //\' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ]',
    '}',
    'if [ -f "$lander" ] && [ -n "$(git for-each-ref --count=1 --format=x refs/land/)" ] && ! lander_running; then',
    '  (',
    '    for v in $(env | sed -n \'s/^\\(GIT_[A-Za-z0-9_]*\\)=.*/\\1/p\'); do unset "$v"; done',
    '    trap \'\' HUP',
    '    if command -v setsid >/dev/null 2>&1; then exec setsid "$node" "$lander" "$dir"; else exec "$node" "$lander" "$dir"; fi',
    '  ) </dev/null >/dev/null 2>&1 &',
    'fi',
  ];
}
