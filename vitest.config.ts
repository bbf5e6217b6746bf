import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig({
  define: { __AGENT_HOOKS_VERSION__: JSON.stringify(version) },
  test: {
    // The gitolite test needs root, Debian's gitolite3 and openssh-server: npm run test:gitolite.
    include: process.env.AGENT_HOOKS_GITOLITE === '1' ? ['test/gitolite/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: process.env.AGENT_HOOKS_GITOLITE === '1' ? [] : ['test/gitolite/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
