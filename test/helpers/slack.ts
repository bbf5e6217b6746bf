// A Slack stand-in for tests: a real HTTP server on 127.0.0.1 that answers incoming-webhook
// posts from a script (200, 429 with Retry-After, 404, 500, or hold the request open).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Slack stand-in: answers requests from a script; records each delivered message. */
export class FakeSlack {
  readonly received: { text: string; status: number | 'held' }[] = [];
  private script: (number | 'hold')[] = [];
  private held: ServerResponse[] = [];
  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  get url() {
    return `http://127.0.0.1:${this.port}/services/T000/B000/SECRET-TOKEN`;
  }
  answer(...script: (number | 'hold')[]) {
    this.script.push(...script);
  }
  release() {
    for (const res of this.held.splice(0)) res.writeHead(200).end('ok');
  }
  delivered(): string[] {
    return this.received.filter((r) => r.status === 200 || r.status === 'held').map((r) => JSON.parse(r.text).text.split('\n')[0]);
  }
  private handle(req: IncomingMessage, res: ServerResponse) {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const next = this.script.shift() ?? 200;
      this.received.push({ text: body, status: next === 'hold' ? 'held' : next });
      if (next === 'hold') this.held.push(res);
      else if (next === 429) res.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
      else if (next === 404) res.writeHead(404).end('channel_not_found');
      else res.writeHead(next).end(next === 200 ? 'ok' : 'server_error');
    });
  }
  async stop() {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

