/**
 * The kiosk's own HTTP transport (src/api/node-http.ts, node:http instead of fetch/undici): what the
 * API client relies on beyond the status and body, which the other API tests cover through it. One
 * kept-alive connection for consecutive calls (a TLS handshake per call would be slow on a Pi), the
 * body sent as UTF-8 with its length, and an https server's certificate checked.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../src/api/errors.js';
import { httpExchange } from '../../src/api/http.js';
import { nodeHttpFetch } from '../../src/api/node-http.js';

interface Seen {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function recording(seen: Seen[], connections: { n: number }) {
  return (server: Server) => {
    server.on('connection', () => connections.n++);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-twice', ['a', 'b']);
        res.end(JSON.stringify({ ok: true, n: seen.length }));
      });
    });
    return server;
  };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('api: node:http transport', () => {
  it('sends the body as UTF-8 with its length and keeps one connection for consecutive calls', async () => {
    const seen: Seen[] = [];
    const connections = { n: 0 };
    const server = recording(seen, connections)(createServer());
    const host = await listen(server);
    try {
      const body = JSON.stringify({ desc: 'Käse 1,80 €' });
      for (let i = 0; i < 3; i++) {
        const r = await httpExchange(nodeHttpFetch, {
          method: 'POST',
          url: `http://${host}/api/v2/x`,
          operation: 'test',
          mutating: true,
          headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
          body,
          timeoutMs: 5000,
        });
        assert.deepEqual(r.json, { ok: true, n: i + 1 });
      }
      assert.equal(seen.length, 3);
      assert.equal(seen[0]!.method, 'POST');
      assert.equal(seen[0]!.body, body);
      assert.equal(seen[0]!.headers['content-length'], String(Buffer.byteLength(body)));
      assert.equal(seen[0]!.headers.authorization, 'Bearer t');
      assert.equal(connections.n, 1, 'the three calls shared one kept-alive connection');
    } finally {
      await close(server);
    }
  });

  it('reads a repeated header as one comma-joined value, as fetch does', async () => {
    const server = recording([], { n: 0 })(createServer());
    const host = await listen(server);
    try {
      const res = await nodeHttpFetch(`http://${host}/`, { method: 'GET' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('X-Twice'), 'a, b');
      assert.equal(res.headers.get('x-absent'), null);
      await res.body?.cancel();
    } finally {
      await close(server);
    }
  });

  it('refuses an https server whose certificate it does not trust: nothing reaches it', async function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'],
          ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
        ],
        { stdio: 'ignore' },
      );
      const seen: Seen[] = [];
      const server = recording(seen, { n: 0 })(
        createHttpsServer({
          key: readFileSync(join(dir, 'key.pem')),
          cert: readFileSync(join(dir, 'cert.pem')),
        }) as unknown as Server,
      );
      const host = await listen(server);
      try {
        await assert.rejects(
          httpExchange(nodeHttpFetch, {
            method: 'POST',
            url: `https://${host}/oauth/token`,
            operation: 'token',
            mutating: false,
            body: 'client_secret=s',
            timeoutMs: 5000,
          }),
          (e: unknown) => e instanceof ApiError && e.kind === 'network' && /SELF_SIGNED/.test(e.message),
        );
        assert.equal(seen.length, 0, 'no request (and no secret) was sent');
      } finally {
        await close(server);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
