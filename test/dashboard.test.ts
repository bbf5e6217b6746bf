// The pure assembly of the dashboard (core/dashboard.ts) and the page (front/serve-page.ts):
// activity order, each agent's latest activity, main's health in words.
import { describe, expect, it } from 'vitest';
import { assembleDashboard, assembleHealth, type DashboardInput } from '../core/dashboard.js';
import { formatDashboardMain, formatLeft } from '../front/serve-page.js';

const T = (s: number) => `2026-11-30T12:00:${String(s).padStart(2, '0')}Z`;
const ms = (s: number) => Date.parse(T(s));
const input = (over: Partial<DashboardInput> = {}): DashboardInput => ({
  repo: 'upstream',
  status: { ref: 'refs/heads/main', oid: 'a'.repeat(40), now: T(59), me: null, invalid: [], claims: [{ task: 'parser', agent: 'agent-1', mine: false, path: 'current_tasks/parser.txt', started: T(1), expires: T(50), active: true, left: 100, files: ['src/**'], description: null }], recent: [], lost: [] },
  claimsLog: [{ oid: 'b'.repeat(40), time: ms(5), author: 'agent-2', subject: 'claim lexer' }],
  queue: [{ ref: 'refs/land/agent-3/x', agent: 'agent-3', topic: 'x', oid: 'c'.repeat(40), subject: 'x', time: T(7) }],
  verdicts: [{ time: T(9), oid: 'd'.repeat(40), agent: 'agent-2', subject: 'y', state: 'ejected', reason: 'tests failed', errors: ['ERROR: t'] }],
  branches: [{ ref: 'refs/heads/agent-1/wip', oid: 'e'.repeat(40), time: T(3), author: 'agent-1', subject: 'wip' }],
  rejections: [{ time: T(8), pusher: 'agent-4', refs: ['refs/heads/main'], errors: ['ERROR: a', 'ERROR: b'] }],
  batch: null,
  health: { state: 'unknown', tests: [], source: 'none' },
  ...over,
});

describe('assembleDashboard', () => {
  it('orders activity newest first and keeps every status field as it was', () => {
    const d = assembleDashboard(input());
    expect(d.activity.map((r) => `${r.time.slice(17, 19)} ${r.kind} ${r.agent}`)).toEqual(['09 ejected agent-2', '08 rejected agent-4', '05 push agent-2', '03 push agent-1']);
    expect(d.activity[1]!.detail).toBe('2 problems');
    const { ref, oid, now, me, claims, invalid, recent, lost } = d;
    expect({ ref, oid, now, me, claims, invalid, recent, lost }).toEqual(input().status);
  });

  it("gives each agent its latest sign of life: a push, a verdict, a refusal, a queue entry or an active claim's start", () => {
    const d = assembleDashboard(input());
    expect(d.agents.map((a) => `${a.agent} ${a.last.slice(17, 19)} ${a.what}`)).toEqual(['agent-2 09 ejected main: y: tests failed', 'agent-4 08 rejected main: 2 problems', 'agent-3 07 queued x', 'agent-1 03 push agent-1/wip: wip']);
  });
});

describe('the queue', () => {
  it("orders entries as the lander does (committer time, then ref) and marks the batch under test", () => {
    const q = (ref: string, t: number) => ({ ref, agent: ref.split('/')[2]!, topic: 't', oid: ref.length.toString(16).padStart(40, '0'), subject: ref, time: T(t) });
    const entries = [q('refs/land/b/t', 5), q('refs/land/a/t', 5), q('refs/land/c/t', 2)];
    const d = assembleDashboard(input({ queue: entries, batch: { onto: 'f'.repeat(40), since: T(6), entries: [{ ref: 'refs/land/a/t', oid: entries[1]!.oid }, { ref: 'refs/land/b/t', oid: '9'.repeat(40) }] } }));
    expect(d.queue.map((e) => `${e.ref} ${e.testing}`)).toEqual(['refs/land/c/t false', 'refs/land/a/t true', 'refs/land/b/t false']);
    const html = formatDashboardMain(d);
    expect(html).toContain('<strong>Batch under test:</strong> 2 entries merged onto <code>ffffffffff</code>');
    expect(html).toMatch(/data-ref="refs\/land\/a\/t"><th scope="row">2<\/th><td class="nw"><strong>testing<\/strong>/);
  });
});

describe('assembleHealth', () => {
  const culprit = { oid: 'f'.repeat(40), agent: 'agent-5', subject: 'break it' };
  it.each([
    ['red while a red test is recorded, since the first was seen', [{ test: 'b.test.ts', seen: T(4), state: 'bisecting' as const }, { test: 'a.test.ts', seen: T(2), state: 'found' as const, culprit }], T(3), { state: 'red', since: T(2), tests: [{ test: 'a.test.ts', culprit }, { test: 'b.test.ts' }] }],
    ['green from a passed run of the tip', [], T(3), { state: 'green', since: T(3), tests: [] }],
    ['unknown without either', [], undefined, { state: 'unknown' }],
  ])('%s', (_name, red, passed, expected) => {
    expect(assembleHealth(red, passed)).toMatchObject(expected);
  });
});

describe('the page', () => {
  it('says red and green in words, not only in colour, and names who turned main red', () => {
    const red = formatDashboardMain(assembleDashboard(input({ health: assembleHealth([{ test: 'test/a.test.ts', seen: T(2), state: 'found', culprit: { oid: 'f'.repeat(40), agent: 'agent-5', subject: 'break <it>' } }], undefined) })));
    expect(red).toMatch(/<strong>Main is red<\/strong> \(tests failing\) since .*<code>test\/a.test.ts<\/code> red since .*turned red by <strong>agent-5<\/strong> in <code>ffffffffff<\/code> \(break &#60;it&#62;\)/);
    const green = formatDashboardMain(assembleDashboard(input({ health: assembleHealth([], T(3)) })));
    expect(green).toContain('<strong>Main is green</strong> (tests pass)');
  });

  it.each([
    [0, 'expired'],
    [-5, 'expired'],
    [59, '0m59s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [7262, '2h01m'],
  ])('time left %i s is %s', (seconds, text) => expect(formatLeft(seconds)).toBe(text));
});
