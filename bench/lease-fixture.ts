// The lease-matching fixture of bench/lease-match.ts and bench/glob-limits.ts: 10,000 paths under
// src/, 100 claims of 3 globs each (300 globs: directories, file globs, one `**/` glob in ten),
// and the default exempt paths.
import type { Claim } from '../core/claim.js';

/** `now` (epoch ms) for the claims: every claim is active for an hour after it. */
export const NOW = Date.now();

/** 10,000 paths: `src/mod<0-99>/sub<0-9>/file<0-9>.ts`. */
export const paths: string[] = [];
for (let m = 0; m < 100; m++) for (let s = 0; s < 10; s++) for (let f = 0; f < 10; f++) paths.push(`src/mod${m}/sub${s}/file${f}.ts`);

/** 100 active claims of 3 globs each. */
export const claims: Claim[] = Array.from({ length: 100 }, (_, i) => ({
  taskId: `task-${i}`,
  path: `current_tasks/task-${i}.txt`,
  expiresAt: NOW + 3600_000,
  lock: {
    agent: `agent-${i}`,
    started: NOW,
    files: [`src/mod${i}/sub${i % 10}/**`, `docs/mod${i}/*.md`, i % 10 === 0 ? `**/fixture${i}/**` : `test/mod${i}/**/*.test.ts`],
  },
}));

/** The locks dir and the policy file: always exempt from leases. */
export const exempt = ['current_tasks/**', 'agent-hooks.json'];
