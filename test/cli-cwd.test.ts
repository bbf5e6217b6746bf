// Running the CLI from a working directory that was deleted (issue 13): one ERROR line with a
// fix and exit 2, never a Node stack trace. A real shell removes its own directory first.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLI, fixtureEnv, tempDir } from './helpers/git.js';

it.each([['status'], ['claim', 'x'], ['--help']])('agent-hooks %s from a deleted directory', (...args) => {
  const gone = join(tempDir(), 'gone');
  mkdirSync(gone);
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const r = spawnSync('sh', ['-c', `cd '${gone}' && rmdir '${gone}' && exec '${process.execPath}' '${CLI}' ${quoted}`], { env: fixtureEnv(), encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('ERROR: the current directory no longer exists (it was deleted or moved); fix: cd to a directory that exists, then run agent-hooks again\n');
  expect(r.stdout).toBe('');
});
