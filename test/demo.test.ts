// The demo is the first thing a new user runs: it must tell its story to the end.
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/git.js';

describe('agent-hooks demo', () => {
  it('plays every step as expected and exits 0', () => {
    const r = cli(['demo']);
    expect(r.stdout).toMatch(/\nEvery push ended as expected\.\n$/);
    expect(r.stdout).toMatch(/remote: ERROR: refs\/heads\/main: current_tasks\/lexer\.txt:3: unknown field "file" \(did you mean "files"\?\)/);
    expect(r.exitCode).toBe(0);
  });
});
