// The command line, as data: a table of commands (front/commands.ts) and one pure parser that
// turns argv into "run this command with these arguments", "print this help" or a usage error
// with a fix. No I/O here; cli.ts runs what this returns (antfu/ni's parseNi + runner split).
import { parseArgs } from 'node:util';
import { distance } from 'fastest-levenshtein';
import { splitGlobList } from '../core/glob.js';

/** One option of a command. `list`: repeatable, and each value may hold several, separated by top-level commas. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  describe: string;
  short?: string;
  /** The placeholder shown in help for a string option (`--ttl S`). */
  value?: string;
  list?: boolean;
}

/** One positional argument. `rest` takes every remaining argument. */
export interface ArgSpec {
  name: string;
  describe: string;
  required?: boolean;
  rest?: boolean;
}

/**
 * One command: its words (`claim`, `worktree add`), arguments, options, and help. `check` is a
 * pure extra check of the parsed arguments that returns a usage problem (with a fix), if any.
 * `passThrough`: every argument after the words goes to the command unparsed (`push`).
 */
export interface CommandSpec {
  name: string;
  describe: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  details?: string[];
  examples?: string[];
  passThrough?: boolean;
  check?: (parsed: ParsedArgs) => string | undefined;
}

/** The values of one command line: positionals by name, options by name (lists as arrays). */
export interface ParsedArgs {
  args: Record<string, string | string[] | undefined>;
  options: Record<string, string | boolean | string[] | undefined>;
}

/** What the parser decided: run a command, print help (exit 0), print the version, or a usage error (exit 2). */
export type CommandLine =
  | ({ kind: 'run'; command: CommandSpec } & ParsedArgs)
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'usage'; message: string; help: string };

/** The text of the top-level help that is not the list of commands (exit codes, agent id, examples). */
export interface HelpTexts {
  intro: string[];
  outro: string[];
}

const SCRIPT = 'agent-hooks';

/** The usage line of a command: `agent-hooks claim <task> [--files G] ...`. */
export function formatUsage(command: CommandSpec): string {
  const args = (command.args ?? []).map((a) => (a.required ? `<${a.name}${a.rest ? '...' : ''}>` : `[${a.name}${a.rest ? '...' : ''}]`));
  const options = Object.entries(command.options ?? {}).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.value ?? 'X'}` : ''}${o.list ? '...' : ''}]`);
  return [SCRIPT, command.name, ...args, ...options].join(' ');
}

const pad = (rows: [string, string][]) => {
  const width = Math.min(30, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([l, r]) => (l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`));
};

/** The help of one command: usage, what it does, its arguments and options, examples. */
export function formatCommandHelp(command: CommandSpec): string {
  const lines = [`usage: ${formatUsage(command)}`, '', command.describe];
  if (command.details?.length) lines.push('', ...command.details);
  const args = command.args ?? [];
  if (args.length > 0) lines.push('', 'arguments:', ...pad(args.map((a) => [`<${a.name}>`, a.describe])));
  const options = Object.entries(command.options ?? {});
  lines.push('', 'options:', ...pad([
    ...options.map(([name, o]): [string, string] => [`${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'X'}` : ''}`, o.describe]),
    ['-h, --help', 'this help'],
  ]));
  if (command.examples?.length) lines.push('', 'examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** The top-level help: intro, every command with its one-line description, outro. */
export function formatHelp(commands: readonly CommandSpec[], texts: HelpTexts): string {
  return [
    ...texts.intro,
    '',
    'commands:',
    ...pad(commands.map((c) => [[c.name, ...(c.args ?? []).map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`))].join(' '), c.describe.split(/(?<=\.) /)[0]!])),
    '',
    `${SCRIPT} <command> --help shows a command's arguments, options and examples.`,
    '',
    ...texts.outro,
  ].join('\n');
}

/** The commands whose name starts with `words` (`claude` -> `claude install`, `claude pre-tool-use`, ...). */
const under = (commands: readonly CommandSpec[], word: string) => commands.filter((c) => c.name.startsWith(`${word} `));

/** The closest command word to a typo, when one is close enough to be meant. */
function closest(word: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = name.startsWith(word) || word.startsWith(name) ? 1 : distance(word, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const isHelp = (a: string) => a === '--help' || a === '-h';

/**
 * Parses `argv` (without node and the script) against the command table. Usage errors name what
 * is wrong (the unknown command and the one probably meant, the missing argument, the option) and
 * carry the help of the command they concern.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[], texts: HelpTexts): CommandLine {
  const top = formatHelp(commands, texts);
  const [first, second] = argv;
  if (first === undefined) return { kind: 'usage', message: 'no command given; fix: agent-hooks --help lists the commands', help: top };
  if (isHelp(first)) return { kind: 'help', text: top };
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (first === 'help') {
    const wanted = argv.slice(1).join(' ');
    const command = commands.find((c) => c.name === wanted);
    return command ? { kind: 'help', text: formatCommandHelp(command) } : { kind: 'help', text: top };
  }
  const group = under(commands, first);
  let command: CommandSpec | undefined;
  let rest: string[];
  if (group.length > 0) {
    const groupHelp = [`${SCRIPT} ${first} <command>`, '', ...pad(group.map((c) => [c.name, c.describe.split(/(?<=\.) /)[0]!]))].join('\n');
    if (second === undefined || isHelp(second)) {
      return second === undefined ? { kind: 'usage', message: `${first}: missing <command> (one of ${group.map((c) => c.name.split(' ')[1]).join(', ')}); fix: ${SCRIPT} ${group[0]!.name}`, help: groupHelp } : { kind: 'help', text: groupHelp };
    }
    command = group.find((c) => c.name === `${first} ${second}`);
    if (!command) {
      const guess = closest(second, group.map((c) => c.name.split(' ')[1]!));
      return { kind: 'usage', message: `${first}: unknown command ${JSON.stringify(second)}${guess ? `; did you mean ${first} ${guess}?` : ''}; fix: ${SCRIPT} ${first} --help lists its commands`, help: groupHelp };
    }
    rest = argv.slice(2);
  } else {
    command = commands.find((c) => c.name === first);
    if (!command) {
      if (first.startsWith('-')) return { kind: 'usage', message: `unknown option ${first} before a command; fix: ${SCRIPT} --help`, help: top };
      const words = [...new Set(commands.map((c) => c.name.split(' ')[0]!))];
      const guess = closest(first, words);
      return { kind: 'usage', message: `unknown command ${JSON.stringify(first)}${guess ? `; did you mean ${guess}?` : ''}; fix: ${guess ? `${SCRIPT} ${guess} --help` : `${SCRIPT} --help lists the commands`}`, help: guess ? formatCommandHelp(commands.find((c) => c.name === guess) ?? under(commands, guess)[0]!) : top };
    }
    rest = argv.slice(1);
  }
  return parseCommandArgs(command, rest);
}

/** Parses the arguments after a command's words; see {@link parseCommandLine}. */
export function parseCommandArgs(command: CommandSpec, rest: readonly string[]): CommandLine {
  const help = formatCommandHelp(command);
  const usage = (message: string): CommandLine => ({ kind: 'usage', message: `${command.name}: ${message}`, help });
  if (command.passThrough) {
    if (rest.length === 1 && isHelp(rest[0]!)) return { kind: 'help', text: help };
    const all = rest[0] === '--' ? rest.slice(1) : [...rest];
    const name = command.args?.[0]?.name ?? 'args';
    return finish(command, { args: { [name]: all }, options: {} }, usage);
  }
  if (rest.some(isHelp)) return { kind: 'help', text: help };
  const specs = command.options ?? {};
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(specs).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.list ? { multiple: true } : {}) }])),
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const option = /'(-[^' ]+)/.exec(text)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const guess = option ? closest(option.replace(/^-+/, ''), Object.keys(specs)) : undefined;
      return usage(`unknown option ${option ?? text}${guess ? `; did you mean --${guess}?` : ''}; fix: ${SCRIPT} ${command.name} --help lists its options`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const spec = option ? specs[option.replace(/^-+/, '')] ?? Object.values(specs).find((o) => `-${o.short}` === option) : undefined;
      return usage(spec?.type === 'boolean'
        ? `${option} takes no value; fix: ${option} alone`
        : `${option ?? 'an option'} needs a value; fix: ${option} ${spec?.value ?? 'VALUE'} (or ${option}=VALUE for a value that starts with -)`);
    }
    return usage(`${text}; fix: ${SCRIPT} ${command.name} --help`);
  }
  const options: ParsedArgs['options'] = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = (parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>)[name];
    // A list splits at top-level commas only: `src/{parser,lexer}/**` is one glob (core/glob.ts).
    if (spec.list) options[name] = ((value as string[] | undefined) ?? []).flatMap(splitGlobList);
    else options[name] = value as string | boolean | undefined;
  }
  const positionals = [...parsed.positionals];
  const args: ParsedArgs['args'] = {};
  for (const spec of command.args ?? []) {
    if (spec.rest) args[spec.name] = positionals.splice(0);
    else args[spec.name] = positionals.shift();
    const missing = spec.rest ? (args[spec.name] as string[]).length === 0 : args[spec.name] === undefined;
    if (spec.required && missing) return usage(`missing <${spec.name}> (${spec.describe}); fix: ${formatUsage(command)}`);
  }
  if (positionals.length > 0) {
    const takes = (command.args ?? []).map((a) => `<${a.name}>`).join(' ') || 'no arguments';
    return usage(`unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals.map((p) => JSON.stringify(p)).join(' ')} (${command.name} takes ${takes}); fix: ${formatUsage(command)}`);
  }
  return finish(command, { args, options }, usage);
}

function finish(command: CommandSpec, parsed: ParsedArgs, usage: (message: string) => CommandLine): CommandLine {
  const problem = command.check?.(parsed);
  return problem ? usage(problem) : { kind: 'run', command, ...parsed };
}
