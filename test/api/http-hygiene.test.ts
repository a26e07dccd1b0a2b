/**
 * HTTP hygiene for API and token calls: a redirect is never followed (nothing reaches the other
 * host, no token from it is used), and an answer body is capped while it streams in, so a huge or
 * endless answer costs the kiosk a megabyte of memory and a clear error, not the process.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenManager, pairDevice } from '../../src/api/auth.js';
import { SmartTransactionsClient } from '../../src/api/client.js';
import { ApiError } from '../../src/api/errors.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/api/http.js';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface LocalServer {
  url: string;
  requests: Recorded[];
  /** Bytes the handler managed to write before the client went away. */
  written: { bytes: number };
  close(): Promise<void>;
}

async function localServer(
  handler: (req: IncomingMessage, res: ServerResponse, written: { bytes: number }, body: string) => void,
): Promise<LocalServer> {
  const requests: Recorded[] = [];
  const written = { bytes: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, written, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    written,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TOKEN_ANSWER = JSON.stringify({ access_token: 'evil-token', expires_in: 1200, token_type: 'bearer' });
const TX_ANSWER = JSON.stringify({
  id: 'STX_EVIL',
  status: 'ok',
  basket_info: { sum: 100, currency: 'EUR' },
});

const fixedTokens = { token: async () => 'good-token', invalidate: () => undefined };

const isApiError = (pred: (e: ApiError) => boolean) => (e: unknown) => e instanceof ApiError && pred(e);

describe('HTTP hygiene: redirects are never followed', () => {
  let other: LocalServer;
  let redirecting: LocalServer;
  let status = 307;

  beforeEach(async () => {
    // The "other host": answers anything with a token and a paid transaction; it must stay unasked.
    other = await localServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/oauth') ? TOKEN_ANSWER : TX_ANSWER);
    });
    redirecting = await localServer((req, res) => {
      res.writeHead(status, { location: `${other.url}${req.url ?? '/'}?x=1` });
      res.end();
    });
  });
  afterEach(async () => {
    await redirecting.close();
    await other.close();
  });

  for (const code of [301, 302, 307, 308]) {
    it(`${code} on /oauth/token (client_credentials): a redirect error naming the location; the secret never reaches the other host`, async () => {
      status = code;
      const tokens = new TokenManager({
        tokenUrl: `${redirecting.url}/oauth/token`,
        auth: { grant: 'client_credentials', clientId: 'kiosk', clientSecret: 'top-secret' },
      });
      await assert.rejects(
        tokens.token(),
        isApiError(
          (e) =>
            e.kind === 'redirect' &&
            e.httpStatus === code &&
            e.location === `${other.url}/oauth/token?x=1` &&
            e.message.includes(`${other.url}/oauth/token`) &&
            !e.message.includes('x=1') &&
            !e.retryable,
        ),
      );
      assert.equal(redirecting.requests.length, 1, 'the configured token URL was asked once');
      assert.match(redirecting.requests[0]!.body, /top-secret/);
      assert.equal(other.requests.length, 0, 'nothing was sent to the other host');
    });

    it(`${code} on an API call: nothing sent to the other host, its "paid" answer never used; a start is outcome unknown`, async () => {
      status = code;
      const client = new SmartTransactionsClient({
        baseUrl: `${redirecting.url}/api/v2`,
        tokens: fixedTokens,
      });
      await assert.rejects(
        client.start('STX_1', 'cash'),
        isApiError((e) => e.kind === 'redirect' && e.outcome === 'unknown' && e.httpStatus === code),
      );
      await assert.rejects(
        client.get('STX_1'),
        isApiError((e) => e.kind === 'redirect' && e.outcome === 'not_applied'),
      );
      assert.equal(redirecting.requests.length, 2);
      assert.equal(redirecting.requests[0]!.headers.authorization, 'Bearer good-token');
      assert.equal(other.requests.length, 0, 'neither the token nor the call went to the other host');
    });
  }

  it('307 on the device-grant poll: pairing stops with a redirect error, the other host is never polled', async () => {
    status = 307;
    let polls = 0;
    const device = await localServer((_req, res, _written, raw) => {
      const body = JSON.parse(raw) as { code?: string };
      if (!body.code) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            device_code: 'dc-1',
            user_code: 'aa63q9k9',
            verification_url: 'https://example.invalid',
            expires_in: 1200,
            interval: 5,
          }),
        );
        return;
      }
      polls += 1;
      res.writeHead(307, { location: `${other.url}/oauth/token` });
      res.end();
    });
    try {
      await assert.rejects(
        pairDevice({
          tokenUrl: `${device.url}/oauth/token`,
          clientId: 'kiosk',
          clientSecret: 'top-secret',
          uuid: '/vendor/acme/kiosk/1',
          sleep: async () => undefined,
          onUserCode: () => undefined,
        }),
        isApiError((e) => e.kind === 'redirect'),
      );
      assert.equal(polls, 1);
      assert.equal(other.requests.length, 0);
    } finally {
      await device.close();
    }
  });
});

describe('HTTP hygiene: answer bodies are capped while they stream in', function () {
  // Streaming 400 MB through loopback under load takes a while; the test checks memory, not time.
  this.timeout(60_000);
  let server: LocalServer;
  afterEach(async () => server?.close());

  it('a 5 MB answer (with Content-Length) to start: bad_response, outcome unknown, refused before reading', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x20);
    server = await localServer((_req, res, written) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': big.length });
      res.end(big, () => (written.bytes = big.length));
    });
    const client = new SmartTransactionsClient({ baseUrl: `${server.url}/api/v2`, tokens: fixedTokens });
    await assert.rejects(
      client.start('STX_1', 'cash'),
      isApiError(
        (e) =>
          e.kind === 'bad_response' &&
          e.outcome === 'unknown' &&
          e.message.includes(String(DEFAULT_MAX_BODY_BYTES)) &&
          e.message.includes('Content-Length 5242880'),
      ),
    );
    await assert.rejects(
      client.get('STX_1'),
      isApiError((e) => e.kind === 'bad_response' && e.outcome === 'not_applied'),
    );
  });

  it('a 5 MB answer without Content-Length (chunked): cut off past 1 MiB, bad_response', async () => {
    server = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 80; i++) res.write(chunk);
      res.end();
    });
    const client = new SmartTransactionsClient({ baseUrl: `${server.url}/api/v2`, tokens: fixedTokens });
    await assert.rejects(
      client.create({
        basket: { products: [{ id: 1, desc: 'x', quantity: 1, priceOne: 100, tax: 19 }] },
        basket_info: { sum: 100, currency: 'EUR' },
      }),
      isApiError(
        (e) => e.kind === 'bad_response' && e.outcome === 'unknown' && /larger than/.test(e.message),
      ),
    );
  });

  it('a 400 MB streamed answer: a clear error, the stream aborted early, RSS stays flat', async () => {
    const total = 400 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    server = await localServer((_req, res, written) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let closed = false;
      res.on('close', () => (closed = true));
      // Respect back-pressure: the server side must not buffer 400 MB in this same process either.
      const pump = (): void => {
        while (!closed && written.bytes < total) {
          written.bytes += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!closed) res.end();
      };
      pump();
    });
    const tokens = new TokenManager({
      tokenUrl: `${server.url}/oauth/token`,
      auth: { grant: 'client_credentials', clientId: 'kiosk', clientSecret: 's' },
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await assert.rejects(
        tokens.token(),
        isApiError((e) => e.kind === 'bad_response' && /larger than 1048576 bytes/.test(e.message)),
      );
      const client = new SmartTransactionsClient({ baseUrl: `${server.url}/api/v2`, tokens: fixedTokens });
      written(server);
      await assert.rejects(
        client.start('STX_1', 'cashless'),
        isApiError((e) => e.kind === 'bad_response' && e.outcome === 'unknown'),
      );
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - before) / (1024 * 1024);
    assert.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB`);
    assert.ok(
      server.written.bytes < total / 4,
      `the server wrote ${server.written.bytes} bytes: not aborted`,
    );
  });
});

/** Resets the byte counter between two calls on the same server. */
function written(server: LocalServer): void {
  server.written.bytes = 0;
}
