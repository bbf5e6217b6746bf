// Every kind of bad lock file pushed to the claims ref is rejected with its own line, and the
// bare repo is left exactly as it was.
import { describe, expect, it } from 'vitest';
import { commit, git, iso, lockText, push, refsOf, sharedRepo, sync, type FileChange } from './helpers/git.js';

const now = () => iso(Date.now());

describe('bad lock files', () => {
  it('rejects each with its own clear line and leaves the bare repo unchanged', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    const before = refsOf(upstream);
    const cases: [string, Record<string, FileChange>, (string | RegExp)[]][] = [
      ['bad JSON', { 'current_tasks/t.json': '{"agent": "agent-1",\n "started": }' }, ['ERROR: refs/heads/main: current_tasks/t.json:2: is not valid JSON: value expected at column 13; fix: fix the JSON syntax, or use the text format ("key: value" lines) in a .txt file']],
      ['missing field', { 'current_tasks/t.txt': 'agent: agent-1\n' }, [`ERROR: refs/heads/main: current_tasks/t.txt: missing required field "started"; fix: add started: 2026-11-21T16:04:05Z`]],
      ['wrong type', { 'current_tasks/t.json': JSON.stringify({ agent: 'agent-1', started: now(), files: 'src/**' }) }, ['ERROR: refs/heads/main: current_tasks/t.json: "files" must be an array of glob strings; fix: write it like "files": ["src/parser/**"]']],
      ['unknown field', { 'current_tasks/t.txt': `agent: agent-1\nstarted: ${now()}\nfile: src/**\n` }, ['ERROR: refs/heads/main: current_tasks/t.txt:3: unknown field "file" (did you mean "files"?); fix: rename "file" to "files"']],
      ['bad timestamp', { 'current_tasks/t.txt': 'agent: agent-1\nstarted: 21/11/2026 10:00\n' }, ['ERROR: refs/heads/main: current_tasks/t.txt:2: "started" must be an RFC 3339 timestamp with a zone, got "21/11/2026 10:00"; fix: write it like started: 2026-11-21T16:04:05Z']],
      ['future start', { 'current_tasks/t.txt': lockText('agent-1', { started: Date.now() + 3600_000 }) }, [/^ERROR: refs\/heads\/main: current_tasks\/t\.txt:2: "started" \S+ is in the future \(server time \S+, allowed skew 300s\); fix: set started to the current UTC time and check the agent's clock$/]],
      ['.. in files', { 'current_tasks/t.txt': lockText('agent-1', { files: ['src/../../etc/**'] }) }, ['ERROR: refs/heads/main: current_tasks/t.txt:3: glob "src/../../etc/**" in "files" must not contain ".."; fix: use globs relative to the repository root, e.g. src/parser/**']],
      ['huge file', { 'current_tasks/t.txt': `agent: agent-1\nstarted: ${now()}\ndescription: ${'x'.repeat(200_000)}\n` }, [/^ERROR: refs\/heads\/main: current_tasks\/t\.txt: is 2000\d\d bytes; the limit is 65536; fix: keep only the lock fields in the file$/]],
      ['binary file', { 'current_tasks/t.txt': Buffer.from([0x61, 0x67, 0x00, 0xff, 0x10]) }, ['ERROR: refs/heads/main: current_tasks/t.txt: is not UTF-8 text; fix: write it as text, e.g. "agent: <id>" and "started: 2026-11-21T16:04:05Z" lines']],
      ['symlink in the locks dir', { 'current_tasks/t.txt': { symlink: '../README.md' } }, ['ERROR: refs/heads/main: current_tasks/t.txt: is a symlink; a lock file must be a regular file; fix: git rm --cached current_tasks/t.txt and add a regular file']],
      ['bad task id', { 'current_tasks/-t.txt': lockText('agent-1') }, [/^ERROR: refs\/heads\/main: current_tasks\/-t\.txt: task id -t must match/]],
    ];
    for (const [name, files, expected] of cases) {
      commit(a, files, name);
      const r = push(a);
      expect(r.exitCode, name).toBe(1);
      expect(r.errors, name).toHaveLength(expected.length);
      expected.forEach((e, i) => (typeof e === 'string' ? expect(r.errors[i], name).toBe(e) : expect(r.errors[i], name).toMatch(e)));
      expect(refsOf(upstream), name).toBe(before);
      sync(a);
    }
    const fsck = git(upstream, ['fsck', '--strict', '--no-progress']);
    expect(fsck.exitCode).toBe(0);
    expect(fsck.stderr).toBe('');
  });
});
