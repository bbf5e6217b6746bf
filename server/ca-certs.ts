// The CA hand-over between a hook's sh stub and its node: the stub moves NODE_EXTRA_CA_CERTS
// aside so node starts faster, and the hook gives it back to what it starts.

/**
 * The variable the stub moves `NODE_EXTRA_CA_CERTS` to. Node 20 loads its whole root store at
 * start when that variable is set (measured here: `node -e 0` 45 ms without, 160 ms with), and
 * no hook process speaks TLS; {@link restoreCaCerts} hands it back to what the hook starts.
 */
export const SAVED_CA_CERTS = 'AGENT_HOOKS_NODE_EXTRA_CA_CERTS';

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
