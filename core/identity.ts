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
