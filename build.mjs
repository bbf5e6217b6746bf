// Bundles each entry point into one self-contained ESM file in dist/ (esbuild).
// Hook bundles (and the Claude Code PreToolUse bundle) must stay lean: the build fails if yargs,
// undici, the MCP SDK or zod ends up in one. The MCP server is its own bundle (dist/mcp.mjs),
// loaded by `agent-hooks mcp` only, so the CLI's other commands never load the SDK either.
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

// The hook bundles: one list, shared with the installer (installer/bundles.json).
const bundles = JSON.parse(readFileSync('installer/bundles.json', 'utf8'));
const hookEntries = { ...bundles.server, ...bundles.client };
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', metafile: true, legalComments: 'none', logLevel: 'warning', mainFields: ['module', 'main'], define: { __AGENT_HOOKS_VERSION__: JSON.stringify(version) } };

rmSync('dist', { recursive: true, force: true });
const [hookResult, claudeResult, cliResult] = await Promise.all([
  build({
    ...common,
    entryPoints: hookEntries,
    outdir: 'dist/hooks',
    outExtension: { '.js': '.mjs' },
    banner: { js: `// agent-hooks ${version}: hook code copied by \`agent-hooks install\`; do not edit` },
  }),
  build({ ...common, entryPoints: { 'claude-pre-tool-use': 'front/claude-pre-tool-use.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } }),
  build({
    ...common,
    // serve: the dashboard and its HTTP framework, imported by the CLI only for `serve`.
    entryPoints: { cli: 'front/cli.ts', serve: 'front/serve.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    // Some bundled packages reach for require(); give the bundle one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  }),
  build({
    ...common,
    entryPoints: { mcp: 'front/mcp.ts' },
    // The SDK and zod are most of it; minified, the package stays small.
    minify: true,
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    banner: { js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
  }),
]);
const heavy = [...Object.keys(hookResult.metafile.inputs), ...Object.keys(claudeResult.metafile.inputs)].filter((f) => /node_modules\/(yargs|undici|@modelcontextprotocol|zod)\//.test(f));
if (heavy.length > 0) throw new Error(`hook bundles must not load yargs, undici, the MCP SDK or zod, but include: ${heavy.join(', ')}`);
const cliInputs = Object.entries(cliResult.metafile.outputs).find(([out]) => out.endsWith('cli.mjs'))[1].inputs;
const sdkInCli = Object.keys(cliInputs).filter((f) => /node_modules\/(@modelcontextprotocol|zod)\//.test(f));
if (sdkInCli.length > 0) throw new Error(`the CLI bundle must load the MCP SDK lazily (dist/mcp.mjs), but includes: ${sdkInCli.slice(0, 3).join(', ')}`);
const framework = [...Object.keys(hookResult.metafile.inputs), ...Object.keys(claudeResult.metafile.inputs), ...Object.keys(cliInputs)].filter((f) => /node_modules\/(hono|@hono)\//.test(f));
if (framework.length > 0) throw new Error(`only dist/serve.mjs may load the HTTP framework, but these include it: ${framework.join(', ')}`);
chmodSync('dist/cli.mjs', 0o755);
