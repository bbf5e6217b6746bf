// Smart HTTP for tests: a small HTTP server on 127.0.0.1 in front of `git http-backend` (CGI),
// with Basic authentication whose user becomes REMOTE_USER, as Apache or nginx would pass it.
// It runs in its own process so that synchronous git calls in a test cannot block it.
import { spawn, type ChildProcess } from 'node:child_process';

const SERVER = `
const { createServer } = require('node:http');
const { spawn } = require('node:child_process');
const root = process.argv[1];
const server = createServer((req, res) => {
  const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  const user = auth ? Buffer.from(auth[1], 'base64').toString('utf8').split(':')[0] : '';
  const url = new URL(req.url, 'http://localhost');
  // Pushes need a user (git asks for credentials after this 401); fetches do not.
  if (!user && url.searchParams.get('service') === 'git-receive-pack' || !user && url.pathname.endsWith('/git-receive-pack')) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
    return;
  }
  const env = { PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_ADDR: '127.0.0.1', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  if (user) env.REMOTE_USER = user;
  if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  if (req.headers['git-protocol']) env.GIT_PROTOCOL = req.headers['git-protocol'];
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('AGENT_HOOKS_') || k === 'NODE_EXTRA_CA_CERTS') env[k] = v;
  const cgi = spawn('git', ['http-backend'], { env });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let sent = false;
  cgi.stdout.on('data', (chunk) => {
    if (sent) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const headers = {};
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\\r\\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'status') status = Number(value.split(' ')[0]);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + 4));
    sent = true;
  });
  cgi.stderr.on('data', (d) => process.stderr.write(d));
  cgi.on('close', () => res.end());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** A running smart-HTTP server for the bare repos under `root`; `url(user, repo)` carries the credentials. */
export interface HttpGit {
  url: (user: string, repo: string) => string;
  stop: () => Promise<void>;
}

/** Starts the server (its own node process) for the bare repos under `root`. */
export function startHttpGit(root: string): Promise<HttpGit> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => {
      const port = Number(d.toString().trim());
      resolve({
        url: (user, repo) => `http://${encodeURIComponent(user)}:secret@127.0.0.1:${port}/${repo}`,
        stop: () => new Promise((done) => {
          child.once('exit', () => done());
          child.kill();
        }),
      });
    });
  });
}
