// Issue 17: "delivers every message once, in order" failed once under load. The sender sends the
// spool in name order, so names must sort in push order even when a push's clock readings
// straddle a second. The post-receive stub runs here against a fake `date` whose clock advances
// 1 ms per call from just before a second boundary, so the straddle happens every time.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPostReceiveStub } from '../installer/stub.js';
import { spoolEvent } from '../server/spool.js';
import { fixtureEnv, git, tempDir, writeScript } from './helpers/git.js';

/** A `date` that answers `-u +FORMAT` from a clock at `startMs` + 1 ms per call (counted in `counter`). */
function fakeDate(dir: string, startMs: number): string {
  const bin = join(dir, 'bin');
  const counter = join(dir, 'date-calls');
  writeFileSync(counter, '0\n');
  const real = spawnSync('sh', ['-c', 'command -v date'], { encoding: 'utf8' }).stdout.trim();
  writeScript(join(bin, 'date'), `#!/bin/sh
n=$(cat '${counter}'); echo $((n + 1)) > '${counter}'
ms=$((${startMs} + n))
fmt=""; for a in "$@"; do case "$a" in +*) fmt="$a";; esac; done
exec '${real}' -u -d "@$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" "$fmt"
`);
  return bin;
}

describe('spool names sort in push order', () => {
  it('the post-receive stub names a push from one clock reading, so two pushes around a second boundary keep their order', () => {
    const dir = tempDir();
    const stub = join(dir, 'post-receive');
    writeScript(stub, formatPostReceiveStub('0.1.0', join(dir, 'no-node'), join(dir, 'notify-sender.mjs'), join(dir, 'no-chained')));
    const repo = join(dir, 'repo.git');
    git(dir, ['init', '--quiet', '--bare', repo]);
    // 3 ms before a second boundary: the first push reads the clock at .997 (and .998 for its
    // time line), the second at .999 and, had it read the clock twice for its name, 1.000.
    const bin = fakeDate(dir, Date.UTC(2026, 10, 30, 11, 15, 0, 997));
    const env = fixtureEnv({ GIT_DIR: '.', AGENT_HOOKS_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook', PATH: `${bin}:${process.env.PATH}` });
    for (const [i, tip] of ['1', '2'].entries()) {
      const r = spawnSync(stub, [], { cwd: repo, env, input: `${'0'.repeat(40)} ${tip.repeat(40)} refs/heads/push-${i}\n`, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const spool = join(repo, 'agent-hooks', 'spool');
    const names = readdirSync(spool).filter((f) => f.endsWith('.raw')).sort();
    expect(names).toHaveLength(2);
    expect(names.map((n) => readFileSync(join(spool, n), 'utf8').match(/refs\/heads\/push-\d/)![0])).toEqual(['refs/heads/push-0', 'refs/heads/push-1']);
    expect(names[0]).toMatch(/^20261130T111500Z-997000000-\d+\.raw$/);
    expect(names[1]).toMatch(/^20261130T111500Z-999000000-\d+\.raw$/);
  });

  it("pre-receive's spooled notifications are named the same way, so they sort with the stub's by time", () => {
    const gitDir = tempDir();
    const name = spoolEvent(gitDir, { id: 'x', time: '2026-11-30T11:15:00Z', repo: 'r', pusher: 'agent-1', refs: [], claims: [] });
    expect(name).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-\\d{6}000-${process.pid}\\.json$`));
  });
});
