// `agent-hooks push` never forces (issue 13 item 18): git push's arguments are read as git reads
// them, so a force hidden in a cluster of short flags (`-fu`) or an abbreviation (`--forc`) is
// caught. A table of the pure parser, and the real command against a real remote.
import { describe, expect, it } from 'vitest';
import { parsePushArgs } from '../commands/push.js';
import { cli, commit, git, sharedRepo } from './helpers/git.js';

describe('parsePushArgs', () => {
  it.each([
    [['-fu', 'origin', 'main'], '-fu', ['origin', 'main']],
    [['-uf', 'origin'], '-uf', ['origin']],
    [['-vfn'], '-vfn', []],
    [['-u', 'origin', 'HEAD:main'], undefined, ['origin', 'HEAD:main']],
    [['--forc', 'origin'], '--forc', ['origin']],
    [['--force-with-lease=main:abc', 'origin'], '--force-with-lease=main:abc', ['origin']],
    [['--mirror'], '--mirror', []],
    [['origin', '+main'], '+main', ['origin', '+main']],
    [['--', 'origin', '+main'], '+main', ['origin', '+main']],
    [['--no-force', 'origin'], undefined, ['origin']],
    // Values of options are not refspecs, and a value may look like a flag.
    [['-o', '-f', 'origin', 'main'], undefined, ['origin', 'main']],
    [['-ofoo', 'origin'], undefined, ['origin']],
    [['-uo', 'x=+y', 'origin'], undefined, ['origin']],
    [['--push-option', '+f', 'origin'], undefined, ['origin']],
    [['--repo', 'origin', 'main'], undefined, ['main']],
    [['--set-upstream', '--dry-run', 'origin', 'feature'], undefined, ['origin', 'feature']],
  ])('%j', (args, forced, positional) => expect(parsePushArgs(args)).toEqual({ ...(forced ? { forced } : {}), positional }));
});

describe('agent-hooks push -fu', () => {
  it('is refused as a force push (exit 2), and the remote does not move', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    const before = git(upstream, ['rev-parse', 'main']).stdout;
    commit(a, { 'x.txt': 'x' });
    const r = cli(['push', '-fu', 'origin', 'HEAD:main'], { cwd: a });
    expect(r.exitCode, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^ERROR: agent-hooks push never forces \(-fu\); fix: git pull --rebase, then agent-hooks push/m);
    expect(git(upstream, ['rev-parse', 'main']).stdout).toBe(before);
  });
});
