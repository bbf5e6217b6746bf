// At-least-once Slack delivery (issue 13 item 15): a webhook that takes a POST but answers after
// the sender's deadline gets the message again. Slack does not deduplicate incoming-webhook posts,
// so every POST carries metadata naming the message (same for each retry) and the attempt.
import { afterEach, expect, it } from 'vitest';
import { cloneAs, commit, git, makeUpstream, push, sendersDone, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

const slacks: FakeSlack[] = [];
const repos: string[] = [];
afterEach(async () => {
  for (const upstream of repos.splice(0)) await sendersDone(upstream);
  for (const s of slacks.splice(0)) await s.stop();
});

it('a webhook that answers after the deadline: the message is posted again with the same message_id and a new attempt_id', async () => {
  const slack = await new FakeSlack().start();
  slacks.push(slack);
  const upstream = makeUpstream();
  repos.push(upstream);
  git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
  const a = cloneAs(upstream, 'agent-1');
  slack.answer('hold', 200); // Slack takes the first POST and answers too late; the retry gets 200
  commit(a, { 'one.txt': '1' }, 'first');
  expect(push(a, ['origin', 'HEAD:main'], { AGENT_HOOKS_NOTIFY_TIMEOUT_MS: '500', AGENT_HOOKS_NOTIFY_BACKOFF_MS: '50', AGENT_HOOKS_NOTIFY_INTERVAL_MS: '20' }).exitCode).toBe(0);
  await waitFor(() => slack.received.length === 2);
  slack.release();
  await sendersDone(upstream);
  const posts = slack.received.map((r) => JSON.parse(r.text) as { text: string; metadata: { event_type: string; event_payload: { message_id: string; attempt_id: string; attempt: number } } });
  expect(posts[0]!.text).toBe(posts[1]!.text); // the repeat Slack shows: at least once
  expect(posts.map((p) => p.metadata.event_type)).toEqual(['agent_hooks_notification', 'agent_hooks_notification']);
  expect(posts[1]!.metadata.event_payload.message_id).toBe(posts[0]!.metadata.event_payload.message_id);
  expect(posts.map((p) => p.metadata.event_payload.attempt)).toEqual([1, 2]);
  expect(posts[1]!.metadata.event_payload.attempt_id).not.toBe(posts[0]!.metadata.event_payload.attempt_id);
  expect(JSON.stringify(posts)).not.toContain('SECRET-TOKEN');
});
