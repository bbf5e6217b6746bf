// The package version, written into the bundles by the build (esbuild `define`).
declare const __AGENT_HOOKS_VERSION__: string;

/** This package's version (`package.json` "version"), e.g. `0.1.0`. */
export const VERSION: string = __AGENT_HOOKS_VERSION__;
