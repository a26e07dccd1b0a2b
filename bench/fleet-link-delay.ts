/**
 * A loopback TCP proxy that delays every chunk by half the round-trip time in each direction: a
 * kiosk's mobile uplink (20-100 ms RTT) emulated on one machine, so "one message per round trip"
 * costs what it costs in the field. Order within a connection is kept (equal delays, FIFO timers).
 */
import net from 'node:net';

export interface DelayProxy {
  url: string;
  close(): Promise<void>;
}

export async function startDelayProxy(targetPort: number, rttMs: number): Promise<DelayProxy> {
  const oneWay = rttMs / 2;
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk) => {
      if (oneWay <= 0) to.write(chunk);
      else setTimeout(() => !to.destroyed && to.write(chunk), oneWay);
    });
    from.on('close', () => setTimeout(() => to.destroy(), oneWay));
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
