// Who a push is judged as: the pusher (DESIGN.md "Identity"). Pure: env and push data in.
import { AGENT_ID } from './lock-file.js';
import type { Verdict } from './verdict.js';
import { quote, showJson } from './text.js';

/**
 * Variables in which git servers pass the identity they authenticated, in order of trust:
 * GitLab, Gitea/Forgejo, GitHub Enterprise, gitolite (DESIGN.md "Identity"), then REMOTE_USER,
 * which a web server sets for `git http-backend` (CGI/1.1, RFC 3875 section 4.1.11).
 */
export const AUTHENTICATED_IDENTITY_VARS = ['GL_USERNAME', 'GITEA_PUSHER_NAME', 'GITHUB_USER_LOGIN', 'GL_USER', 'REMOTE_USER'] as const;

/** One of {@link AUTHENTICATED_IDENTITY_VARS}. */
export type IdentityVar = (typeof AUTHENTICATED_IDENTITY_VARS)[number];

/**
 * What an authenticating server sets beside each identity variable (issue 13 item 12). A local
 * or file:// push runs receive-pack with the client's own environment, so `GL_USER=agent-1 git
 * push` would otherwise pass for gitolite's word: the variable counts only when every `requires`
 * is set too and no `absent` is. GitLab (gitlab-shell and Gitaly: GL_PROTOCOL, GL_REPOSITORY),
 * Gitea and Forgejo (GITEA_PUSHER_ID, GITEA_REPO_NAME), GitHub Enterprise Server's pre-receive
 * environment (GITHUB_REPO_NAME, GITHUB_VIA), gitolite (gitolite-shell sets GL_REPO and GL_TID;
 * GL_BYPASS_ACCESS_CHECKS means nobody's access was checked), and a CGI web server in front of
 * `git http-backend` (REQUEST_METHOD, PATH_INFO; RFC 3875). A client that sets these too on a
 * local push is not stopped: such a pusher can write the bare repo's refs directly anyway.
 */
export const IDENTITY_MARKERS: Record<IdentityVar, { requires: readonly string[]; absent?: readonly string[] }> = {
  GL_USERNAME: { requires: ['GL_PROTOCOL', 'GL_REPOSITORY'] },
  GITEA_PUSHER_NAME: { requires: ['GITEA_PUSHER_ID', 'GITEA_REPO_NAME'] },
  GITHUB_USER_LOGIN: { requires: ['GITHUB_REPO_NAME', 'GITHUB_VIA'] },
  GL_USER: { requires: ['GL_REPO', 'GL_TID'], absent: ['GL_BYPASS_ACCESS_CHECKS'] },
  REMOTE_USER: { requires: ['REQUEST_METHOD', 'PATH_INFO'] },
};

/** Every variable {@link trustedIdentityEnv} looks at: the identity variables and their markers. */
export const IDENTITY_CONTEXT_VARS: readonly string[] = [...new Set(AUTHENTICATED_IDENTITY_VARS.flatMap((v) => [v, ...IDENTITY_MARKERS[v].requires, ...(IDENTITY_MARKERS[v].absent ?? [])]))];

/**
 * The environment with every identity variable that no authenticating server set removed (its
 * {@link IDENTITY_MARKERS} are missing), and the verdicts about those: an error when `-o agent=`
 * names someone else (two identities), else a warning that the variable was ignored.
 */
export function trustedIdentityEnv(env: Record<string, string | undefined>, pushOptions: readonly string[]): { env: Record<string, string | undefined>; verdicts: Verdict[] } {
  const trusted = { ...env };
  const verdicts: Verdict[] = [];
  const option = pushOption(pushOptions, 'agent');
  for (const name of AUTHENTICATED_IDENTITY_VARS) {
    const value = env[name];
    if (!value) continue;
    const markers = IDENTITY_MARKERS[name];
    const missing = markers.requires.filter((m) => !env[m]);
    const bypass = (markers.absent ?? []).filter((m) => env[m] !== undefined);
    if (missing.length === 0 && bypass.length === 0) continue;
    delete trusted[name];
    const why = missing.length > 0 ? `no ${missing.join(', ')} beside it` : `${bypass.join(', ')} is set`;
    const what = `${name}=${quote(value)} was not set by an authenticating git server (${why}: a local or file:// push?), so it is no identity`;
    verdicts.push(option !== undefined && option !== value
      ? { severity: 'error', rule: 'identity', where: 'push', what: `${what}, and push option agent=${quote(option)} names someone else`, fix: `unset ${name}, or push with -o agent=${quote(value)}`, overridable: false }
      : { severity: 'warning', rule: 'identity', where: 'push', what: `${what}; ignored`, fix: `unset ${name}; push through the authenticating server, or with -o agent=<your-agent-id>`, overridable: false });
  }
  return { env: trusted, verdicts };
}

/** Where the pusher's id came from. */
export type PusherSource = 'authenticated' | 'push-option' | 'committer' | 'none';

/** The pusher, if one could be determined, and the identity problems that reject the push. */
export interface Pusher {
  id?: string;
  source: PusherSource;
  verdicts: Verdict[];
}

/** Inputs for {@link resolvePusher}; `committerName` is the committer (or tagger) of the pushed tip. */
export interface PusherInput {
  env: Record<string, string | undefined>;
  pushOptions: readonly string[];
  committerName?: string;
  requireAuthenticated: boolean;
}

/**
 * Push options as git passes them to pre-receive: `GIT_PUSH_OPTION_COUNT` and
 * `GIT_PUSH_OPTION_<i>` (githooks(5), "pre-receive").
 */
export function parsePushOptions(env: Record<string, string | undefined>): string[] {
  const count = Number(env.GIT_PUSH_OPTION_COUNT ?? 0);
  const options: string[] = [];
  for (let i = 0; i < count; i++) options.push(env[`GIT_PUSH_OPTION_${i}`] ?? '');
  return options;
}

/**
 * Push options with a control character (a newline, a NUL...): `git push -o` refuses them, but a
 * raw receive-pack client can send them, to forge or cut lines wherever an option is written
 * (the spool's raw events, log lines). One error per such option.
 */
export function pushOptionProblems(options: readonly string[]): Verdict[] {
  return options.flatMap((option, i) =>
    /[\x00-\x1f\x7f]/.test(option)
      ? [{ severity: 'error' as const, rule: 'identity' as const, where: 'push', what: `push option ${i + 1} ${showJson(option)} contains a control character`, fix: 'push options are one line of text: git push -o key=value', overridable: false }]
      : [],
  );
}

/** The value of the last `key=value` push option with that key, if any. */
export function pushOption(options: readonly string[], key: string): string | undefined {
  let found: string | undefined;
  for (const option of options) if (option.startsWith(`${key}=`)) found = option.slice(key.length + 1);
  return found;
}

/**
 * Whether {@link resolvePusher} will need the committer name of the pushed tip: only when there
 * is neither an authenticated identity nor an `agent=` push option (saves reading the commit).
 */
export function needsCommitterName(env: Record<string, string | undefined>, pushOptions: readonly string[]): boolean {
  return !AUTHENTICATED_IDENTITY_VARS.some((v) => env[v]) && pushOption(pushOptions, 'agent') === undefined;
}

/**
 * Resolves the pusher: an authenticated identity, else `-o agent=<id>`, else the committer name
 * of the pushed tip. An `agent=` option that differs from the authenticated identity is a spoof
 * (an error); so is a missing authenticated identity under `agenthooks.requireAuthenticated`.
 * An id that is not a valid agent id leaves the pusher unknown; only pushes that need an identity
 * (claims) are rejected for that, by the caller.
 */
export function resolvePusher(input: PusherInput): Pusher {
  const option = pushOption(input.pushOptions, 'agent');
  const authVar = AUTHENTICATED_IDENTITY_VARS.find((name) => input.env[name]);
  const verdicts: Verdict[] = [];
  const error = (what: string, fix: string): Verdict => ({ severity: 'error', rule: 'identity', where: 'push', what, fix, overridable: false });
  if (authVar) {
    const id = input.env[authVar]!;
    if (option !== undefined && option !== id) {
      verdicts.push(error(`push option agent=${quote(option)} does not match the authenticated user ${quote(id)} (${authVar}): spoofed identity`, `push without -o agent= or with -o agent=${quote(id)}`));
    }
    return { id: AGENT_ID.test(id) ? id : undefined, source: 'authenticated', verdicts };
  }
  if (input.requireAuthenticated) {
    verdicts.push(error('this repository requires an authenticated pusher (agenthooks.requireAuthenticated) and the server gave none', 'push through the authenticating git server (ssh or https), not the file system'));
  }
  if (option !== undefined) {
    if (!AGENT_ID.test(option)) verdicts.push(error(`push option agent=${showJson(option)} is not a valid agent id (${AGENT_ID.source})`, 'git push -o agent=<your-agent-id>'));
    return { id: AGENT_ID.test(option) ? option : undefined, source: 'push-option', verdicts };
  }
  if (input.committerName !== undefined) {
    return { id: AGENT_ID.test(input.committerName) ? input.committerName : undefined, source: 'committer', verdicts };
  }
  return { source: 'none', verdicts };
}

/** Where the client side (pre-commit, agent commands) got the agent id from. */
export type ClientAgentSource = 'AGENT_ID' | 'agenthooks.agent' | 'user.name' | 'none';

/**
 * The agent id on the client side (DESIGN.md "Identity"): `AGENT_ID`, else
 * `git config agenthooks.agent`, else `user.name`. A value that is not an agent id gives none.
 */
export function resolveClientAgent(agentIdEnv: string | undefined, configured: string | undefined, userName: string | undefined): { id?: string; source: ClientAgentSource } {
  const [source, value] = agentIdEnv ? (['AGENT_ID', agentIdEnv] as const) : configured ? (['agenthooks.agent', configured] as const) : userName ? (['user.name', userName] as const) : (['none', undefined] as const);
  return value !== undefined && AGENT_ID.test(value) ? { id: value, source } : { source };
}
