// Verdicts: what a check decided, one per problem, and how they are rendered for the pusher.

/**
 * The DESIGN.md rule a verdict comes from: `schema` 1, `claim-agent` 2, `claim-held` 3,
 * `lease` 4 and 5, `claims-ref` 6; `identity` covers spoofed or missing pushers and overrides
 * asked by non-admins, `policy` an invalid policy file, `override` the note left when an admin
 * overrides, `queue` the landing queue's enqueue rules. Rule 7 (tests) is decided in core/push-decision.ts and rule 8 (internal) by the hook
 * runtime (hooks/run-hook.ts); neither is a verdict.
 */
export type Rule = 'schema' | 'claim-agent' | 'claim-held' | 'lease' | 'claims-ref' | 'identity' | 'policy' | 'override' | 'queue';

/**
 * One decision about one thing in a push. An `error` rejects the push, a `warning` is printed
 * and lets it through. `where` is the ref and/or file (and line), `fix` the exact next step.
 * `overridable` says whether an admin's `-o override=<reason>` may turn the error into a warning;
 * `overridden` marks a warning that was such an error.
 */
export interface Verdict {
  severity: 'error' | 'warning';
  rule: Rule;
  where: string;
  what: string;
  fix?: string;
  overridable: boolean;
  overridden?: boolean;
}

/** One line of hook output: `ERROR: <where>: <what>; fix: <fix>` (plain ASCII, no colour). */
export function formatVerdict(v: Verdict): string {
  const head = v.severity === 'error' ? 'ERROR' : 'WARNING';
  const where = v.where ? `${v.where}: ` : '';
  const fix = v.fix ? `; fix: ${v.fix}` : '';
  return `${head}: ${where}${v.what}${fix}`;
}

export const errorsOf = (verdicts: readonly Verdict[]): Verdict[] => verdicts.filter((v) => v.severity === 'error');

/** The last line of pre-receive output: how many problems, and that nothing was updated. */
export function formatSummary(verdicts: readonly Verdict[], refCount: number): string | undefined {
  const errors = errorsOf(verdicts).length;
  const warnings = verdicts.length - errors;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (errors > 0) {
    return `agent-hooks: push rejected with ${plural(errors, 'error')}${warnings ? ` and ${plural(warnings, 'warning')}` : ''}; none of its ${plural(refCount, 'ref update')} was applied`;
  }
  if (warnings > 0) return `agent-hooks: push accepted with ${plural(warnings, 'warning')}`;
  return undefined;
}

/**
 * An admin's override (DESIGN.md "What pre-receive rejects": `-o override=<reason>`): every
 * overridable error becomes a warning that names the admin and the reason; the rest stay errors.
 * Pure: the caller decides who is an admin.
 */
export function applyOverride(verdicts: readonly Verdict[], admin: string, reason: string): Verdict[] {
  return verdicts.map((v) =>
    v.severity === 'error' && v.overridable
      ? { ...v, severity: 'warning', what: `${v.what} (overridden by admin ${admin}: ${reason})`, fix: undefined, overridden: true }
      : v,
  );
}

/**
 * The fix every claim-held (rule 3) and lease (rules 4, 5) error gives when another agent holds
 * the task or path. Part of the output contract: `agent-hooks push` reads it (through
 * {@link isHeldLine}) to exit 3, as DESIGN.md "Command line" asks, from the server's text alone.
 */
export const heldFix = (holder: string) => `wait for the claim to expire or ask ${holder}`;

/**
 * Whether a hook output line (with or without git's `remote: ` prefix) is an error for a task or
 * path another agent holds: exactly one `; fix: `, and that fix is (or ends with the alternative)
 * {@link heldFix}. A line with pushed text that itself holds `; fix: ` is never taken for one.
 */
export function isHeldLine(line: string): boolean {
  const parts = line.replace(/^remote: /, '').split('; fix: ');
  return parts.length === 2 && parts[0]!.startsWith('ERROR: ') && /^(.*\bor )?wait for the claim to expire or ask /.test(parts[1]!);
}
