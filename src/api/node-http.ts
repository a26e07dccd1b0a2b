/**
 * The kiosk's HTTP transport: `node:http`/`node:https` behind the `FetchLike` seam. Node's `fetch` is
 * undici, which Node 20 compiles from its own sources on the first call: about a fifth of the start-up
 * CPU before the self-test's token answer came (docs/performance.md). `httpExchange` needs only the
 * status, one header at a time and the body as a stream it can stop, which this gives.
 *
 * Never follows a redirect (node:http does not): `httpExchange` turns a 3xx into an error.
 * Connections are kept alive by Node's global agents (`keepAlive` is their default since Node 19).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FetchLike, ResponseLike } from './http.js';

/** Node's own request, through the same seam as a test's fake. */
export const nodeHttpFetch: FetchLike = async (input, init) => {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`unsupported protocol ${url.protocol}`);
  // node:https brings TLS with it: loaded for an https address only (the stand-in is plain http)
  const send = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  const headers = init.headers as Record<string, string> | undefined;
  const body = typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : undefined;
  return new Promise<ResponseLike>((resolve, reject) => {
    const req = send(
      url,
      {
        method: init.method ?? 'GET',
        headers: body ? { ...headers, 'content-length': String(body.byteLength) } : headers,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => resolve(responseOf(res)),
    );
    // Before the answer: connect and send errors (ECONNREFUSED keeps its code for httpExchange).
    // After it, the body's reader reports them.
    req.on('error', reject);
    req.end(body);
  });
};

function responseOf(res: IncomingMessage): ResponseLike {
  const chunks = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const cancel = async (): Promise<void> => {
    res.destroy();
  };
  return {
    status: res.statusCode ?? 0,
    headers: {
      get(name) {
        const v = res.headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      },
    },
    body: {
      cancel,
      getReader: () => ({
        cancel,
        read: async () => {
          const next = await chunks.next();
          return next.done ? { done: true } : { done: false, value: next.value };
        },
      }),
    },
  };
}
