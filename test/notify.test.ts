// Notifications: the Slack message inside Slack's limits (pure), and delivery through real
// pushes to a real HTTP server on 127.0.0.1 standing in for Slack.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSlackMessage, BLOCK_LIMIT, SECTION_LIMIT, type Notification, type RefEvent } from '../core/notification.js';
import { parseRawPushEvent } from '../server/raw-event.js';
import { claimEventsOf } from '../git/read-notification.js';
import { cli, cliAsync, cloneAs, commit, git, lockText, makeUpstream, push, sendersDone, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

const oid = (i: number) => i.toString(16).padStart(40, '0');

describe('the raw push event of the post-receive stub', () => {
  it('parses what the stub writes, and names the line of anything else', () => {
    const raw = parseRawPushEvent(`agent-hooks push event 1\ntime 2026-11-21T14:30:00Z\nenv GL_USER=agent-1\noption agent=agent-1\noption x=a=b\nupdate ${oid(0)} ${oid(1)} refs/heads/main\nother ${oid(2)} refs/heads/feature\n`);
    expect(raw).toEqual({ time: '2026-11-21T14:30:00Z', env: { GL_USER: 'agent-1' }, options: ['agent=agent-1', 'x=a=b'], updates: [{ oldOid: oid(0), newOid: oid(1), refName: 'refs/heads/main' }], refs: [{ oid: oid(2), refName: 'refs/heads/feature' }] });
    // Version 2 (issue 13): values from outside in hex, so none can forge a line.
    expect(parseRawPushEvent(`agent-hooks push event 2\ntime 2026-11-21T14:30:00Z\nenv GL_USER=6167656e742d31\noption 783d610a6f7074696f6e206167656e743d666f72676564\nupdate ${oid(0)} ${oid(1)} refs/heads/main\n`)).toMatchObject({ env: { GL_USER: 'agent-1' }, options: ['x=a\noption agent=forged'] });
    expect(() => parseRawPushEvent('agent-hooks push event 2\ntime 2026-11-21T14:30:00Z\noption agent=x\n')).toThrow(/^line 3: expected hex/);
    expect(() => parseRawPushEvent('{"updates":[]}')).toThrow(/^line 1: expected "agent-hooks push event 2"$/);
    expect(() => parseRawPushEvent('agent-hooks push event 1\ntime 2026-11-21T14:30:00Z\nsurprise x\n')).toThrow(/^line 3: unknown record "surprise"$/);
    expect(() => parseRawPushEvent('agent-hooks push event 1\n')).toThrow(/no valid "time" line/);
  });
});

describe('the Slack message', () => {
  it('stays within the limits for 500 commits and 200 refs, naming every ref', () => {
    const refs: RefEvent[] = Array.from({ length: 200 }, (_, r) => ({
      refName: `refs/heads/agent/agent-${r}/a-rather-long-branch-name-for-this-test`,
      kind: 'update',
      oldOid: oid(r),
      newOid: oid(r + 1000),
      commits: r === 0 ? Array.from({ length: 500 }, (_, c) => ({ oid: oid(c), author: 'agent-1', subject: `commit ${c} ${'x'.repeat(100)}` })) : [],
      moreCommits: 0,
      discarded: 0,
    }));
    const n: Notification = { id: 'x', time: '2026-11-21T10:00:00Z', repo: 'upstream.git', pusher: 'agent-1', refs, claims: [] };
    const message = buildSlackMessage(n);
    expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_LIMIT);
    for (const b of message.blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(SECTION_LIMIT);
    const all = message.blocks.map((b) => (b.type === 'section' ? b.text!.text : '')).join('\n');
    for (const r of refs) expect(all).toContain(r.refName.replace('refs/heads/', ''));
    expect(JSON.stringify(message).length).toBeLessThan(40_000);

    const one = buildSlackMessage({ ...n, refs: refs.slice(0, 1) });
    const text = (one.blocks[1] as { text: { text: string } }).text.text;
    expect(text.length).toBeLessThanOrEqual(SECTION_LIMIT);
    expect(text).toMatch(/\.\.\. and 490 more commits$/);
  });

  it('describes creation, deletion, force pushes, moved tags and claims', () => {
    const e = (refName: string, kind: RefEvent['kind'], extra: Partial<RefEvent> = {}): RefEvent => ({ refName, kind, oldOid: oid(1), newOid: oid(2), commits: [], moreCommits: 0, discarded: 0, ...extra });
    const m = buildSlackMessage({
      id: 'x', time: 't', repo: 'r', pusher: 'agent-1',
      refs: [e('refs/heads/f', 'create', { commits: [{ oid: oid(3), author: 'a', subject: 's' }] }), e('refs/heads/g', 'delete'), e('refs/heads/main', 'update', { discarded: 2 }), e('refs/tags/v1', 'update')],
      claims: [{ kind: 'taken', taskId: 'parser', agent: 'agent-1', files: ['src/parser/**'], until: '2026-11-21T12:00:00Z' }],
    });
    expect(m.text.split('\n')).toEqual([
      'agent-1 pushed to r',
      'agent-1 took task parser until 2026-11-21T12:00:00Z (lease src/parser/**)',
      'branch f created at 0000000000, 1 new commit',
      'branch g deleted (was 0000000000)',
      'branch main 0000000000..0000000000 (force push: 2 commits discarded)',
      'WARNING: tag v1 moved from 0000000000 to 0000000000',
    ]);
  });

  it('finds claims taken, released, renewed and expired', () => {
    const c = (taskId: string, agent: string, expiresAt: number, renewed?: number) => ({ taskId, path: `current_tasks/${taskId}.txt`, expiresAt, lock: { agent, started: 0, files: [], renewed } });
    expect(claimEventsOf(['a', 'b', 'c', 'd'], [c('b', 'x', 10), c('c', 'x', 10), c('d', 'x', 1)], [c('a', 'y', 10), c('c', 'x', 20, 5)], 5).map((e) => `${e.kind} ${e.taskId}`)).toEqual(['taken a', 'released b', 'renewed c', 'expired d']);
  });
});

const servers: FakeSlack[] = [];
const repos: string[] = [];
afterEach(async () => {
  // Senders write into the repo until they end: let them finish before the temp dirs go.
  for (const upstream of repos.splice(0)) await sendersDone(upstream);
  for (const s of servers.splice(0)) await s.stop();
});

const FAST = { AGENT_HOOKS_NOTIFY_INTERVAL_MS: '20', AGENT_HOOKS_NOTIFY_TIMEOUT_MS: '1500', AGENT_HOOKS_NOTIFY_BACKOFF_MS: '100', AGENT_HOOKS_NOTIFY_BUDGET_MS: '60000' };

function repoWithSlack(url: string) {
  const upstream = makeUpstream();
  repos.push(upstream);
  git(upstream, ['config', 'agenthooks.slack.webhookUrl', url]);
  const a = cloneAs(upstream, 'agent-1');
  return { upstream, a };
}

describe('delivery', () => {
  it('never makes a push wait, and delivers every message once, in order, through 429, 500s and a hang', async () => {
    const slack = await new FakeSlack().start();
    servers.push(slack);
    slack.answer('hold', 429, 500, 500, 'hold');
    const { upstream, a } = repoWithSlack(slack.url);
    const subjects: string[] = [];
    for (let i = 0; i < 4; i++) {
      commit(a, { [`f${i}.txt`]: `${i}\n` }, `change ${i}`);
      const r = push(a, ['origin', 'HEAD:main'], FAST);
      expect(r.exitCode, r.stderr).toBe(0);
      subjects.push('agent-1 pushed to upstream.git');
      if (i === 0) {
        // The first request is held by the server; the push above has already returned.
        await waitFor(() => slack.received.length === 1);
        expect(slack.received[0]!.status).toBe('held');
      }
    }
    // The held requests are never answered: the sender's deadline aborts them and it retries.
    await waitFor(() => readdirSync(join(upstream, 'agent-hooks', 'spool')).filter((f) => /\.(json|raw)$/.test(f)).length === 0);
    const ids = slack.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.text).blocks.at(-1).elements[0].text as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(4);
    expect(slack.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.text).blocks[1].text.text.split('\n')[1])).toEqual(['`' + git(a, ['rev-parse', 'HEAD~3']).stdout.slice(0, 10) + '` change 0 (agent-1)', ...[2, 1, 0].map((k, j) => '`' + git(a, ['rev-parse', `HEAD~${k}`]).stdout.slice(0, 10) + '` change ' + (j + 1) + ' (agent-1)')]);
  });

  it('keeps messages while Slack is down and delivers all of them, once, when it is back', async () => {
    const probe = await new FakeSlack().start();
    const port = probe.port;
    await probe.stop();
    const { upstream, a } = repoWithSlack(`http://127.0.0.1:${port}/services/T000/B000/SECRET-TOKEN`);
    for (let i = 0; i < 20; i++) {
      commit(a, { 'n.txt': `${i}\n` }, `push ${i}`);
      expect(push(a, ['origin', 'HEAD:main'], FAST).exitCode).toBe(0);
    }
    expect(readdirSync(join(upstream, 'agent-hooks', 'spool')).filter((f) => /\.(json|raw)$/.test(f)).length).toBeGreaterThan(0);
    const slack = await new FakeSlack().start(port);
    servers.push(slack);
    await waitFor(() => slack.received.filter((r) => r.status === 200).length >= 20 && readdirSync(join(upstream, 'agent-hooks', 'spool')).filter((f) => /\.(json|raw)$/.test(f)).length === 0, 60_000);
    const subjects = slack.received.map((r) => /`[0-9a-f]{10}` (push \d+)/.exec(JSON.parse(r.text).blocks[1].text.text)?.[1]);
    expect(subjects).toEqual(Array.from({ length: 20 }, (_, i) => `push ${i}`));
    const log = readFileSync(join(upstream, 'agent-hooks', 'notify.log'), 'utf8');
    expect(log).toMatch(/retry .*ECONNREFUSED/);
    expect(log).not.toContain('SECRET-TOKEN');
  }, 120_000);

  it('sets aside a message Slack refuses for good, announces claims, and never shows the URL', async () => {
    const slack = await new FakeSlack().start();
    servers.push(slack);
    slack.answer(404);
    const { upstream, a } = repoWithSlack(slack.url);
    commit(a, { 'x.txt': 'x\n' }, 'first');
    const first = push(a, ['origin', 'HEAD:main'], FAST);
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim');
    const second = push(a, ['origin', 'HEAD:main'], FAST);
    await waitFor(() => slack.received.length >= 2);
    await waitFor(() => existsSync(join(upstream, 'agent-hooks', 'spool', 'failed')));
    const failed = readdirSync(join(upstream, 'agent-hooks', 'spool', 'failed'));
    expect(failed.filter((f) => f.endsWith('.reason')).map((f) => readFileSync(join(upstream, 'agent-hooks', 'spool', 'failed', f), 'utf8'))).toEqual(['404 channel_not_found\n']);
    expect(JSON.parse(slack.received[1]!.text).text).toMatch(/agent-1 took task parser until \S+ \(lease src\/parser\/\*\*\)/);
    for (const out of [first.stderr, second.stderr, readFileSync(join(upstream, 'agent-hooks', 'notify.log'), 'utf8')]) expect(out).not.toContain('SECRET-TOKEN');

    const doctor = cli(['doctor', upstream]);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/ERROR: 1 notifications were refused by Slack and set aside/);
  });

  it('announces a refused push when notify.rejections is on', async () => {
    const slack = await new FakeSlack().start();
    servers.push(slack);
    const { a } = repoWithSlack(slack.url);
    commit(a, { 'agent-hooks.json': '{"notify":{"rejections":true}}' });
    expect(push(a, ['origin', 'HEAD:main'], FAST).exitCode).toBe(0);
    commit(a, { 'current_tasks/x.txt': lockText('agent-2') });
    expect(push(a, ['origin', 'HEAD:main'], FAST).exitCode).toBe(1);
    await waitFor(() => slack.received.length >= 2);
    const refused = JSON.parse(slack.received[1]!.text);
    expect(refused.text).toMatch(/^agent-1 was refused a push to upstream\.git\nERROR: refs\/heads\/main: current_tasks\/x\.txt: claim of task x names agent agent-2/);
  });

  it('spools nothing without a webhook URL; notify --test and --flush report Slack\'s answers', async () => {
    const upstream = makeUpstream();
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'x.txt': 'x\n' });
    expect(push(a).exitCode).toBe(0);
    expect(existsSync(join(upstream, 'agent-hooks', 'spool'))).toBe(false);
    expect(cli(['notify', '--test', upstream])).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^ERROR: no webhook URL/) });

    const slack = await new FakeSlack().start();
    servers.push(slack);
    git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
    // cliAsync: the stand-in answers from this process, which a synchronous spawn would block.
    expect(await cliAsync(['notify', '--test', upstream], { cwd: upstream })).toMatchObject({ exitCode: 0, stdout: 'Slack answered 200 ok: the test message was delivered\n' });
    slack.answer(404);
    const refused = await cliAsync(['notify', '--test', upstream], { cwd: upstream });
    expect(refused).toMatchObject({ exitCode: 1, stderr: 'ERROR: Slack did not take the test message: 404 channel_not_found\n' });
    expect(refused.stdout + refused.stderr).not.toContain('SECRET-TOKEN');

    const spool = join(upstream, 'agent-hooks', 'spool');
    mkdirSync(spool, { recursive: true });
    for (let i = 0; i < 25; i++) writeFileSync(join(spool, `2026-${String(i).padStart(3, '0')}.json`), JSON.stringify({ id: `m${i}`, time: 't', repo: 'r', pusher: 'p', refs: [], claims: [] }));
    expect(cli(['doctor', upstream]).stdout).toMatch(/ERROR: the notification spool holds 25 messages/);
    const flushed = await cliAsync(['notify', '--flush', upstream], { cwd: upstream, env: FAST });
    expect(flushed.stdout).toMatch(/25 sent, 0 set aside \(see agent-hooks\/spool\/failed\), 0 left in the spool\n$/);
  });
});
