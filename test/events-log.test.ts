// The events log (server/events-log.ts): appended by hooks, read by the dashboard. Lines that are
// torn, forged or foreign are skipped; big events are cut; the log rotates instead of growing.
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendEvent, eventsLogPath, MAX_EVENT_BYTES, MAX_LOG_BYTES, parseEvent, readRecentEvents } from '../server/events-log.js';
import { tempDir } from './helpers/git.js';

const rejected = (i: number, errors = [`ERROR: refs/heads/main: problem ${i}; fix: x`]) => ({ kind: 'rejected' as const, time: `2026-11-30T12:00:${String(i % 60).padStart(2, '0')}Z`, pusher: `agent-${i}`, refs: ['refs/heads/main'], errors });

describe('events log', () => {
  it('reads back what was appended, oldest first, the last N only', () => {
    const gitDir = tempDir();
    for (let i = 0; i < 5; i++) appendEvent(gitDir, rejected(i));
    const events = readRecentEvents(gitDir, 3);
    expect(events.map((e) => e.pusher)).toEqual(['agent-2', 'agent-3', 'agent-4']);
    expect(events[2]!.errors).toEqual(['ERROR: refs/heads/main: problem 4; fix: x']);
  });

  it('skips torn, foreign and ill-typed lines', () => {
    const gitDir = tempDir();
    appendEvent(gitDir, rejected(1));
    appendFileSync(eventsLogPath(gitDir), '{"kind":"rejected","time":"x","pusher":1,"refs":[],"errors":[]}\nnot json\n{"kind":"rejected","ti');
    appendFileSync(eventsLogPath(gitDir), '\n{"kind":"landed","time":"2026-11-30T12:00:00Z"}\n');
    appendEvent(gitDir, rejected(2));
    expect(readRecentEvents(gitDir, 10).map((e) => e.pusher)).toEqual(['agent-1', 'agent-2']);
    expect(parseEvent('{"kind":"rejected","time":"t","pusher":"p","refs":["r"],"errors":[1]}')).toBeUndefined();
    expect(parseEvent('null')).toBeUndefined();
  });

  it('cuts an event with many long ERROR lines to one line of at most MAX_EVENT_BYTES', () => {
    const gitDir = tempDir();
    appendEvent(gitDir, rejected(1, Array.from({ length: 500 }, (_, i) => `ERROR: refs/heads/main: ${'p'.repeat(200)}/${i}; fix: x`)));
    appendEvent(gitDir, rejected(2, ['x'.repeat(MAX_EVENT_BYTES * 2)]));
    const lines = readFileSync(eventsLogPath(gitDir), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const [first] = readRecentEvents(gitDir, 2);
    expect(first?.errors.at(-1)).toMatch(/^\.\.\. \d+ more$/);
  });

  it('rotates past MAX_LOG_BYTES and still reads across the two generations', () => {
    const gitDir = tempDir();
    mkdirSync(dirname(eventsLogPath(gitDir)), { recursive: true });
    writeFileSync(eventsLogPath(gitDir), `${JSON.stringify(rejected(1))}\n`.padEnd(MAX_LOG_BYTES + 10, ' '));
    appendEvent(gitDir, rejected(2));
    expect(statSync(eventsLogPath(gitDir)).size).toBeLessThan(1000);
    expect(statSync(`${eventsLogPath(gitDir)}.1`).size).toBeGreaterThan(MAX_LOG_BYTES);
    expect(readRecentEvents(gitDir, 10).map((e) => e.pusher)).toContain('agent-2');
  });
});
