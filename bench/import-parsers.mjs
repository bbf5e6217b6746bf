// How the import parser was chosen (issue 19): every candidate reads the module specifiers of the
// same 20,000 generated TypeScript files (3 imports, some `import()` and `require`, type
// annotations, regex and division), in one process each; load time, parse time, edges found.
// The candidates are not dependencies of agent-hooks: install them in a scratch directory and
// point NODE_PATH-less resolution there:
//   mkdir /tmp/parsers && cd /tmp/parsers && npm init -y && npm i es-module-lexer oxc-parser @swc/core meriyah typescript
//   node bench/import-parsers.mjs /tmp/parsers
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? '/tmp/parsers');
const script = `
const REQ = /(?<![\\w$.])require\\s*\\(\\s*(['"\`])([^'"\`\\n]+)\\1\\s*\\)/g;
const reqs = (t) => [...t.matchAll(REQ)].map((m) => m[2]);
const which = process.argv[2];
const t0 = performance.now();
let parseFile;
if (which === 'es-module-lexer') {
  const { init, parse } = await import('es-module-lexer');
  await init();
  parseFile = (name, t) => [...parse(t)[0].map((i) => i.specifier).filter(Boolean), ...reqs(t)];
} else if (which === 'oxc-parser') {
  const { parseSync } = await import('oxc-parser');
  parseFile = (name, t) => { const m = parseSync(name, t).module; return [...m.staticImports.map((i) => i.moduleRequest.value), ...m.staticExports.flatMap((e) => e.entries.map((x) => x.moduleRequest?.value).filter(Boolean)), ...m.dynamicImports.map((d) => t.slice(d.moduleRequest.start + 1, d.moduleRequest.end - 1)), ...reqs(t)]; };
} else if (which === 'typescript') {
  const ts = (await import('typescript')).default;
  parseFile = (name, t) => ts.preProcessFile(t, true, true).importedFiles.map((f) => f.fileName);
} else if (which === '@swc/core') {
  const swc = await import('@swc/core');
  parseFile = (name, t) => { const ast = swc.parseSync(t, { syntax: 'typescript' }); const out = []; for (const it of ast.body) if (it.source) out.push(it.source.value); return [...out, ...reqs(t)]; };
} else if (which === 'meriyah') {
  const { parse } = await import('meriyah');
  parseFile = (name, t) => { parse(t, { module: true }); return []; };
}
const loadMs = performance.now() - t0;
const files = [];
for (let i = 0; i < 20000; i++) {
  const a = (i * 7 + 1) % 20000, b = (i * 13 + 5) % 20000, c = (i * 31 + 11) % 20000;
  let s = \`import { v\${a} } from '../m\${a % 100}/f\${a}';\\nimport type { T\${b} } from './f\${b}.js';\\nexport { v\${c} as w\${i} } from '@/lib/f\${c}';\\n\`;
  if (i % 5 === 0) s += \`const lazy = () => import('./lazy\${i}');\\n\`;
  if (i % 7 === 0) s += \`const old = require('./cjs\${i}');\\n\`;
  s += \`interface Shape\${i} { id: number; children?: Shape\${i}[] }\\n\`;
  for (let k = 0; k < 40; k++) s += \`export function fn\${k}(x: number, y: Shape\${i} | null): number { const re = /a+b/g; return x / 2 + (y ? y.id : \${k}) + \\\`t\\\${x}\\\`.length; }\\n\`;
  files.push([\`src/f\${i}.ts\`, s]);
}
const t1 = performance.now();
let edges = 0, errors = 0;
for (const [name, text] of files) { try { edges += parseFile(name, text).length; } catch { errors++; } }
console.log(JSON.stringify({ which, loadMs: +loadMs.toFixed(1), parseMs: +(performance.now() - t1).toFixed(0), edges, errors }));
`;
const file = join(dir, 'measure-parsers.mjs');
writeFileSync(file, script);
console.log('| parser | load (ms) | 20,000 files (ms) | edges found (of 66,858) | files it failed on |');
console.log('|---|---|---|---|---|');
for (const which of ['es-module-lexer', 'typescript', 'oxc-parser', '@swc/core', 'meriyah']) {
  const r = spawnSync(process.execPath, [file, which], { cwd: dir, encoding: 'utf8' });
  const out = r.stdout.trim() ? JSON.parse(r.stdout.trim()) : { loadMs: '-', parseMs: '-', edges: '-', errors: `not installed (${r.stderr.split('\n').find((l) => l.includes('Error')) ?? r.status})` };
  console.log(`| ${which} | ${out.loadMs} | ${out.parseMs} | ${out.edges} | ${out.errors} |`);
}
