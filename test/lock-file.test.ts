import { describe, expect, it } from 'vitest';
import { classifyLocksDirEntry, lockExpiresAt, parseLockFile, type LockFileFormat } from '../core/lock-file.js';
import { parseRfc3339 } from '../core/text.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const parse = (text: string | Uint8Array, format: LockFileFormat = 'txt') =>
  parseLockFile(typeof text === 'string' ? new TextEncoder().encode(text) : text, format, { now: NOW, skew: 300 });
const problems = (text: string | Uint8Array, format: LockFileFormat = 'txt') => {
  const r = parse(text, format);
  return r.ok ? [] : r.problems.map((p) => `${p.line ?? '-'} ${p.message}`);
};

describe('parseLockFile: valid files', () => {
  it('reads the seed text format', () => {
    const r = parse('agent: agent-1\nstarted: 2026-11-21T10:30:00Z\ndescription: Fixing the parser: nested calls\nfiles: src/parser/**, test/parser/**\nttl: 7200\n');
    expect(r).toEqual({
      ok: true,
      lock: { agent: 'agent-1', started: Date.parse('2026-11-21T10:30:00Z'), description: 'Fixing the parser: nested calls', files: ['src/parser/**', 'test/parser/**'], ttl: 7200 },
    });
  });
  it('reads JSON, CRLF text, a BOM, comments and zones other than Z', () => {
    expect(parse('{"agent":"a","started":"2026-11-21T13:00:00+02:00","files":["src/**"],"renewed":"2026-11-21T11:00:00Z"}', 'json').ok).toBe(true);
    expect(parse('\uFEFFagent: a\r\n# note\r\n\r\nstarted: 2026-11-21T10:00:00.123z\r\n').ok).toBe(true);
  });
  it('allows a start within the skew', () => expect(parse('agent: a\nstarted: 2026-11-21T12:04:00Z\n').ok).toBe(true));
});

describe('parseLockFile: each problem has its own line', () => {
  it.each([
    ['missing agent', 'started: 2026-11-21T10:00:00Z\n', ['- missing required field "agent"']],
    ['missing started', 'agent: a\n', ['- missing required field "started"']],
    ['bad agent id', 'agent: -a b\nstarted: 2026-11-21T10:00:00Z\n', [/^1 "agent" must be an agent id/]],
    ['unknown field with a guess', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nfile: src/**\n', ['3 unknown field "file" (did you mean "files"?)']],
    ['unknown field without a guess', 'agent: a\nstarted: 2026-11-21T10:00:00Z\npriority: high\n', ['3 unknown field "priority"']],
    ['no zone', 'agent: a\nstarted: 2026-11-21T10:00:00\n', [/^2 "started" must be an RFC 3339 timestamp/]],
    ['impossible date', 'agent: a\nstarted: 2026-02-30T10:00:00Z\n', [/^2 "started" must be an RFC 3339/]],
    ['future start', 'agent: a\nstarted: 2026-11-21T13:00:00Z\n', [/^2 "started" 2026-11-21T13:00:00Z is in the future \(server time 2026-11-21T12:00:00Z, allowed skew 300s\)/]],
    ['future renewal', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nrenewed: 2027-01-01T00:00:00Z\n', [/^3 "renewed" .* is in the future/]],
    ['ttl too small', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nttl: 5\n', [/^3 "ttl" must be whole seconds from 60 to 604800/]],
    ['ttl not a number', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nttl: 2h\n', [/^3 "ttl" must be whole seconds/]],
    ['.. in files', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nfiles: src/**, ../secret\n', ['3 glob "../secret" in "files" must not contain ".."']],
    ['absolute path in files', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nfiles: /etc/**\n', ['3 glob "/etc/**" in "files" must be relative (no leading "/")']],
    ['leading ./ in files', 'agent: a\nstarted: 2026-11-21T10:00:00Z\nfiles: ./src/**\n', [/^3 glob "\.\/src\/\*\*" in "files" must not contain "\." or empty segments/]],
    ['line without a colon', 'agent: a\nstarted: 2026-11-21T10:00:00Z\njust words\n', [/^3 expected "key: value"/]],
    ['duplicate key', 'agent: a\nagent: b\nstarted: 2026-11-21T10:00:00Z\n', ['2 field "agent" appears again (first on line 1)']],
    ['description too long', `agent: a\nstarted: 2026-11-21T10:00:00Z\ndescription: ${'x'.repeat(1001)}\n`, ['3 "description" is 1001 characters; the limit is 1000']],
  ])('%s', (_name, text, expected) => {
    const got = problems(text);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => (typeof e === 'string' ? expect(got[i]).toBe(e) : expect(got[i]).toMatch(e)));
  });

  it.each([
    ['bad JSON names the line', '{\n  "agent": "a",\n  "started": \n}', /^4 is not valid JSON: value expected at column 1$/],
    ['not an object', '["agent"]', /^- must be a JSON object/],
    ['wrong type for files', '{"agent":"a","started":"2026-11-21T10:00:00Z","files":"src/**"}', /^- "files" must be an array of glob strings/],
    ['wrong type for ttl', '{"agent":"a","started":"2026-11-21T10:00:00Z","ttl":"7200"}', /^- "ttl" must be whole seconds/],
    ['multi-line description', '{"agent":"a","started":"2026-11-21T10:00:00Z","description":"a\\nb"}', /^- "description" must be one line/],
    ['agent not a string', '{"agent":7,"started":"2026-11-21T10:00:00Z"}', /^- "agent" must be an agent id .* got 7$/],
  ])('JSON: %s', (_name, text, expected) => {
    const got = problems(text, 'json');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(expected);
  });

  it('rejects binary and oversized files unparsed', () => {
    expect(problems(new Uint8Array([0x61, 0x00, 0x62]))).toEqual(['- is binary (contains NUL bytes)']);
    expect(problems(new Uint8Array([0xff, 0xfe, 0x41]))).toEqual(['- is not UTF-8 text']);
    expect(problems('x'.repeat(70000))).toEqual(['- is 70000 bytes; the limit is 65536']);
  });

  it('quotes control characters so no message can forge a line', () => {
    const [line] = problems('agent: a\nstarted: 2026-11-21T10:00:00Z\nttl: 1\u001b[31m\n');
    expect(line).toMatch(/got "1\\u001b\[31m"$/);
  });
});

describe('lock file basics', () => {
  it.each([
    ['parser.json', { kind: 'lock', taskId: 'parser', format: 'json' }],
    ['parser.v2.txt', { kind: 'lock', taskId: 'parser.v2', format: 'txt' }],
    ['.gitkeep', { kind: 'ignored' }],
    ['README.md', { kind: 'ignored' }],
    ['parser.jsn', { kind: 'stray' }],
    ['-bad.json', { kind: 'stray' }],
    ['sub/x.json', { kind: 'stray' }],
  ])('classifies %s', (name, expected) => expect(classifyLocksDirEntry(name)).toMatchObject(expected));

  it('expires at max(started, renewed) + ttl, with the policy default', () => {
    const started = Date.parse('2026-11-21T10:00:00Z');
    expect(lockExpiresAt({ agent: 'a', started, files: [] }, 7200)).toBe(started + 7200_000);
    expect(lockExpiresAt({ agent: 'a', started, files: [], ttl: 60, renewed: started + 1000 }, 7200)).toBe(started + 61_000);
  });

  it.each([
    ['2026-11-21T10:00:00Z', Date.parse('2026-11-21T10:00:00Z')],
    ['2026-11-21 10:00:00+01:00', Date.parse('2026-11-21T09:00:00Z')],
    ['2024-02-29T00:00:00Z', Date.parse('2024-02-29T00:00:00Z')],
    ['2026-02-29T00:00:00Z', undefined],
    ['2026-11-21T24:00:00Z', undefined],
    ['2026-11-21T10:00:00+25:00', undefined],
    ['2026-11-21', undefined],
  ])('parseRfc3339(%s)', (text, expected) => expect(parseRfc3339(text)).toBe(expected));
});
