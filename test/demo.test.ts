// The demo is the first thing a new user runs: it must tell its story to the end.
import { describe, expect, it } from 'vitest';
import { cli } from './helpers/git.js';

describe('agent-hooks demo', () => {
  it('plays every step as expected and exits 0', () => {
    const r = cli(['demo']);
    expect(r.stdout).toMatch(/\nEvery push ended as expected\.\n$/);
    expect(r.stdout).toMatch(/remote: ERROR: refs\/heads\/main: current_tasks\/lexer\.txt:3: unknown field "file" \(did you mean "files"\?\)/);
    expect(r.exitCode).toBe(0);
    // The race is lost with an ERROR: line and exit 3, never git's raw "cannot lock ref".
    expect(r.stdout).not.toMatch(/cannot lock ref|failed to update ref/);
    expect(r.stdout).toMatch(/\[agent-\d\] {3}ERROR: parser: held by agent-\d until \S+ \(files src\/parser\/\*\*\); fix: /);
    // Whoever crashed pushes nothing after the story says so.
    const afterCrash = r.stdout.slice(r.stdout.indexOf('crashed'));
    expect(afterCrash).not.toMatch(/\[agent-3\] \$ git push .* HEAD:main\n\[agent-3\] {3}To .*\n\[agent-3\] .*\n\[agent-3\] {3}-> accepted/);
    expect(r.stdout.indexOf('crashed')).toBeLessThan(r.stdout.indexOf('race to claim'));
  });
});
