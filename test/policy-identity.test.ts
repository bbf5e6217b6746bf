import { describe, expect, it } from 'vitest';
import { parsePushOptions, resolvePusher } from '../core/identity.js';
import { defaultPolicy, parsePolicy } from '../core/policy.js';
import { parseRefUpdates, RefUpdateParseError } from '../core/ref-update.js';
import { formatVerdict } from '../core/verdict.js';

describe('parsePolicy', () => {
  it('fills defaults and always exempts the locks dir and the policy file', () => {
    expect(defaultPolicy()).toEqual({
      locks: { dir: 'current_tasks', ttl: 7200, skew: 300 },
      leases: { exempt: ['current_tasks/**', 'agent-hooks.json'] },
      notify: { rejections: false },
      queue: { enabled: false, required: false, batch: 8, retries: 1, wait: 1800 },
    });
    const r = parsePolicy('{"locks":{"dir":"tasks","ttl":600},"leases":{"exempt":["docs/**"]},"test":{"command":["npm","test"],"files":["test/**/*.test.js"]}}');
    expect(r.ok && r.policy.locks).toEqual({ dir: 'tasks', ttl: 600, skew: 300 });
    expect(r.ok && r.policy.leases.exempt).toEqual(['tasks/**', 'agent-hooks.json', 'docs/**']);
    expect(r.ok && r.policy.test).toEqual({ command: ['npm', 'test'], files: ['test/**/*.test.js'], sample: 0.1, always: [], timeout: 300 });
  });

  it.each([
    ['{"lock":{}}', /^"lock": unknown key \(did you mean "locks"\?\)/],
    ['{"locks":{"ttl":30}}', /^locks\.ttl: must be whole seconds from 60 to 604800$/],
    ['{"locks":{"tll":600}}', /^"locks\.tll": unknown key \(did you mean "locks\.ttl"\?\)/],
    ['{"locks":{"dir":"../x"}}', /^locks\.dir: must not contain "\.\."$/],
    ['{"locks":{"dir":"tasks/*"}}', /^locks\.dir: must be a plain directory name/],
    ['{"test":{"command":"npm test","files":["t/**"]}}', /^test\.command: must be a non-empty array of strings/],
    ['{"test":{"files":["t/**"]}}', /^test\.command: required when "test" is set$/],
    ['{"test":{"command":["x"],"files":["t"],"sample":0}}', /^test\.sample: must be a number greater than 0/],
    ['{"notify":{"rejections":"yes"}}', /^notify\.rejections: must be true or false$/],
    ['[]', /^must be a JSON object$/],
    ['{\n"locks": {,}\n}', /^line 2: not valid JSON: value expected at column 11$/],
  ])('%s', (text, expected) => {
    const r = parsePolicy(text);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problems[0]).toMatch(expected);
  });
});

describe('resolvePusher', () => {
  const base = { pushOptions: [] as string[], requireAuthenticated: false };
  it.each([
    ['authenticated wins over everything', { env: { GL_USER: 'agent-1' }, pushOptions: [], committerName: 'x' }, 'agent-1', 'authenticated'],
    ['GitLab before gitolite', { env: { GL_USERNAME: 'gl', GL_USER: 'go' } }, 'gl', 'authenticated'],
    ['push option', { env: {}, pushOptions: ['agent=agent-2'], committerName: 'agent-9' }, 'agent-2', 'push-option'],
    ['last push option wins', { env: {}, pushOptions: ['agent=a', 'agent=b'] }, 'b', 'push-option'],
    ['committer name', { env: {}, committerName: 'agent-3' }, 'agent-3', 'committer'],
    ['committer name that is no agent id', { env: {}, committerName: 'Jane Doe' }, undefined, 'committer'],
    ['nothing at all', { env: {} }, undefined, 'none'],
  ])('%s', (_name, input, id, source) => {
    const p = resolvePusher({ ...base, ...input });
    expect([p.id, p.source, p.verdicts]).toEqual([id, source, []]);
  });

  it('rejects a spoofed agent= under an authenticated identity', () => {
    const p = resolvePusher({ ...base, env: { GITEA_PUSHER_NAME: 'agent-1' }, pushOptions: ['agent=agent-2'] });
    expect(p.id).toBe('agent-1');
    expect(p.verdicts.map(formatVerdict)).toEqual([
      'ERROR: push: push option agent=agent-2 does not match the authenticated user agent-1 (GITEA_PUSHER_NAME): spoofed identity; fix: push without -o agent= or with -o agent=agent-1',
    ]);
  });

  it('rejects an unauthenticated push when authentication is required', () => {
    const p = resolvePusher({ ...base, env: {}, pushOptions: ['agent=agent-1'], requireAuthenticated: true });
    expect(p.verdicts).toHaveLength(1);
    expect(p.verdicts[0]!.what).toMatch(/requires an authenticated pusher/);
  });

  it('reads push options as git passes them', () => {
    expect(parsePushOptions({ GIT_PUSH_OPTION_COUNT: '2', GIT_PUSH_OPTION_0: 'agent=a', GIT_PUSH_OPTION_1: 'override=why' })).toEqual(['agent=a', 'override=why']);
    expect(parsePushOptions({})).toEqual([]);
  });
});

describe('parseRefUpdates', () => {
  const a = 'a'.repeat(40);
  const z = '0'.repeat(40);
  it('reads creations, deletions and SHA-256 oids', () => {
    expect(parseRefUpdates(`${z} ${a} refs/heads/main\n${a} ${z} refs/tags/v1\n${'0'.repeat(64)} ${'b'.repeat(64)} refs/heads/x\n`)).toEqual([
      { oldOid: z, newOid: a, refName: 'refs/heads/main' },
      { oldOid: a, newOid: z, refName: 'refs/tags/v1' },
      { oldOid: '0'.repeat(64), newOid: 'b'.repeat(64), refName: 'refs/heads/x' },
    ]);
  });
  it.each([[`${a} refs/heads/main`], [`${a} ${'b'.repeat(64)} refs/heads/x`], [`${a} ${a} `]])('throws on %j', (line) => {
    expect(() => parseRefUpdates(line)).toThrow(RefUpdateParseError);
  });
});
