// The JSON Schemas that ship with the package agree with the validators the hooks use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseLockFile } from '../core/lock-file.js';
import { parsePolicy } from '../core/policy.js';
import { ROOT } from './helpers/git.js';

const ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: true });
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', name), 'utf8')));
const lockSchema = schema('lock-file.schema.json');
const policySchema = schema('policy.schema.json');

const T = '2026-11-21T10:00:00Z';
const LOCKS: unknown[] = [
  { agent: 'agent-1', started: T },
  { agent: 'agent-1', started: T, description: 'x', files: ['src/**', '!src/gen/**', '.github/**'], ttl: 60, renewed: T },
  { agent: 'a', started: '2026-11-21 10:00:00.5+01:00' },
  {},
  { agent: 'agent-1' },
  { agent: '-x', started: T },
  { agent: 'agent-1', started: '2026-11-21T10:00:00' },
  { agent: 'agent-1', started: T, file: ['x'] },
  { agent: 'agent-1', started: T, ttl: 59 },
  { agent: 'agent-1', started: T, ttl: 60.5 },
  { agent: 'agent-1', started: T, ttl: '600' },
  { agent: 'agent-1', started: T, description: 'a\nb' },
  { agent: 'agent-1', started: T, description: 'x'.repeat(1001) },
  ...['/abs', '../up', 'a/../b', './a', 'a//b', 'a/', 'a\\b', '!/abs', '!../x', 'a/./b', '', 'a..b/c', '!keep', 'app/\\[id\\]/**', 'a\\', 'a\\b\\*'].map((glob) => ({ agent: 'a', started: T, files: [glob] })),
  { agent: 'agent-1', started: T, files: 'src/**' },
  [],
];

const POLICIES: unknown[] = [
  {},
  { locks: { dir: 'tasks', ttl: 600, skew: 0 }, leases: { exempt: ['docs/**'] }, notify: { rejections: true } },
  { test: { command: ['npm', 'test', '--', '{files}'], files: ['test/**'], sample: 1, always: [], timeout: 60, setup: ['npm', 'ci'], setupInputs: ['package-lock.json'], refs: ['refs/heads/main'] } },
  { lock: {} },
  { locks: { dir: '../x' } },
  { locks: { dir: 'a/*' } },
  { locks: { ttl: 30 } },
  { locks: { skew: -1 } },
  { test: { files: ['x'] } },
  { test: { command: [], files: ['x'] } },
  { test: { command: ['x'], files: ['x'], sample: 0 } },
  { test: { command: ['x'], files: ['x'], map: { 'src/parser/**': ['test/parser/**'] }, maxAffected: 0.3, history: 0 } },
  { test: { command: ['x'], files: ['x'], map: { 'src/**': [] } } },
  { test: { command: ['x'], files: ['x'], map: ['src/**'] } },
  { test: { command: ['x'], files: ['x'], maxAffected: 0 } },
  { test: { command: ['x'], files: ['x'], history: 100001 } },
  { test: { command: ['x'], files: ['x'], history: 1.5 } },
  { notify: { rejections: 'yes' } },
  { test: { command: ['x'], files: ['x'], preexisting: 'reject' } },
  { test: { command: ['x'], files: ['x'], preexisting: 'acept' } },
  { test: { command: ['x'], files: ['x'], preexisting: true } },
  { test: { command: ['x'], files: ['x'], network: true, setupNetwork: false } },
  { test: { command: ['x'], files: ['x'], network: 'no' } },
  { leases: { exempt: [''] } },
  [],
];

describe('shipped JSON Schemas', () => {
  it.each(LOCKS.map((l) => [JSON.stringify(l).slice(0, 90), l]))('lock file %s', (_name, lock) => {
    const ours = parseLockFile(new TextEncoder().encode(JSON.stringify(lock)), 'json', { now: Date.parse('2027-01-01T00:00:00Z'), skew: 300 });
    expect(lockSchema(lock)).toBe(ours.ok);
  });
  it.each(POLICIES.map((p) => [JSON.stringify(p).slice(0, 90), p]))('policy %s', (_name, policy) => {
    expect(policySchema(policy)).toBe(parsePolicy(JSON.stringify(policy)).ok);
  });
});
