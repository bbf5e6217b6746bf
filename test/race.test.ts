// Ten agents push a claim of the same task at the same moment: git's compare-and-swap on the
// claims ref lets exactly one land, round after round.
import { describe, expect, it } from 'vitest';
import { cloneAs, commit, git, lockText, pushAsync, sharedRepo, sync } from './helpers/git.js';

// The default suite plays 3 rounds; npm run test:slow (AGENT_HOOKS_SLOW=1, run by .ci/run) the
// 20-round soak.
const AGENTS = Array.from({ length: 10 }, (_, i) => `agent-${i + 1}`);
const ROUNDS = process.env.AGENT_HOOKS_SLOW === '1' ? 20 : 3;

describe('claim race', () => {
  it(`exactly one of ${AGENTS.length} simultaneous claims lands, over ${ROUNDS} rounds`, { timeout: 600_000 }, async () => {
    const { upstream, clones } = sharedRepo([AGENTS[0]!]);
    for (const agent of AGENTS.slice(1)) clones[agent] = cloneAs(upstream, agent);
    const winners: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const task = `task-${round}`;
      for (const agent of AGENTS) {
        sync(clones[agent]!);
        commit(clones[agent]!, { [`current_tasks/${task}.txt`]: lockText(agent, { description: `round ${round}` }) }, `claim ${task}`);
      }
      const results = await Promise.all(AGENTS.map((agent) => pushAsync(clones[agent]!, ['-o', `agent=${agent}`, 'origin', 'HEAD:main'])));
      const landed = AGENTS.filter((_, i) => results[i]!.exitCode === 0);
      expect(landed, `round ${round}`).toHaveLength(1);
      // The claims ref holds the winner's lock file, and the loser pushes were all refused.
      const onMain = git(upstream, ['show', `main:current_tasks/${task}.txt`]).stdout;
      expect(onMain).toMatch(new RegExp(`^agent: ${landed[0]}\\n`));
      for (const [i, r] of results.entries()) if (AGENTS[i] !== landed[0]) expect(r.stderr, `round ${round}`).toMatch(/\[(remote )?rejected\]/);
      winners.push(landed[0]!);
    }
    expect(git(upstream, ['rev-list', '--count', 'main']).stdout.trim()).toBe(String(ROUNDS + 1));
    expect(git(upstream, ['fsck', '--no-progress']).exitCode).toBe(0);
    console.log(`race winners: ${winners.join(' ')}`);
  });
});
