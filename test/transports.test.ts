// The same push behaviour over file:// and smart HTTP (git http-backend behind a loopback HTTP
// server, the pusher from REMOTE_USER); ssh:// is covered by the gitolite test (npm run
// test:gitolite). Rejection lines must reach the client intact through each.
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cloneAs, commit, git, lockText, makeUpstream, push, sendersDone } from './helpers/git.js';
import { startHttpGit, type HttpGit } from './helpers/http-git.js';

const servers: HttpGit[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

describe('transports', () => {
  it('file:// and smart HTTP give the same verdicts and the same lines; over HTTP the pusher is REMOTE_USER', async () => {
    const upstream = makeUpstream();
    const http = await startHttpGit(dirname(upstream));
    servers.push(http);
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': '# p\n', 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
    expect(push(a).exitCode).toBe(0);

    // agent-2 works in one clone with both remotes; its committer name is no agent id.
    const b = cloneAs(upstream, 'agent-2');
    git(b, ['config', 'user.name', 'Someone Else']);
    git(b, ['remote', 'add', 'http', http.url('agent-2', 'upstream.git')]);
    git(b, ['fetch', '--quiet', 'http']);

    // A leased path: refused the same way over both, line for line.
    commit(b, { 'src/parser/x.ts': 'x' }, 'touch the lease');
    const overFile = push(b, ['-o', 'agent=agent-2', 'origin', 'HEAD:refs/heads/work']);
    const overHttp = push(b, ['http', 'HEAD:refs/heads/work']);
    expect(overFile.exitCode).toBe(1);
    expect(overHttp.exitCode).toBe(1);
    expect(overHttp.errors).toEqual(overFile.errors);
    expect(overHttp.errors[0]).toMatch(/^ERROR: refs\/heads\/work: src\/parser\/x\.ts \(changed in [0-9a-f]{10}\) is leased by agent-1/);
    expect(overHttp.stderr).toMatch(/agent-hooks: push rejected with 1 error/);

    // A spoof under the authenticated user.
    git(b, ['reset', '--quiet', '--hard', 'origin/main']);
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-1') }, 'claim lexer for agent-1');
    const spoof = push(b, ['-o', 'agent=agent-1', 'http', 'HEAD:main']);
    expect(spoof.exitCode).toBe(1);
    expect(spoof.errors[0]).toBe('ERROR: push: push option agent=agent-1 does not match the authenticated user agent-2 (REMOTE_USER): spoofed identity; fix: push without -o agent= or with -o agent=agent-2');

    // The pusher is REMOTE_USER: agent-2's own claim lands over HTTP with no -o and a committer
    // name that is no agent id; over file:// the same push has no pusher and is refused.
    git(b, ['reset', '--quiet', '--hard', 'origin/main']);
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-2') }, 'claim lexer');
    const anonymous = push(b, ['origin', 'HEAD:main']);
    expect(anonymous.exitCode).toBe(1);
    const claimed = push(b, ['http', 'HEAD:main']);
    expect(claimed.exitCode, claimed.stderr).toBe(0);
    expect(git(upstream, ['show', 'main:current_tasks/lexer.txt']).stdout).toMatch(/^agent: agent-2$/m);
    await sendersDone(upstream);
  });
});
