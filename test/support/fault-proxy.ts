// A TCP proxy that misbehaves on demand, for the fault tests: it can delay what the service
// answers (a slow Redis: every chunk held for a while, in order), stall (stop reading from the
// clients, so their writes back up as with a peer that never reads), or cut every connection.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /**
   * Holds each chunk the service sends back for `ms` (a number, or a range drawn per chunk),
   * keeping their order. 0 ends the delay; chunks already held still go out in order.
   */
  delayReplies(ms: number | { min: number; max: number }): void;
  /** Stop reading from the clients (nothing reaches the service); resume() reads again. */
  stall(): void;
  resume(): void;
  /** Drop every connection and refuse new ones; restore() accepts again. */
  cut(): void;
  restore(): void;
  /** Chunks held by the delay right now, over all connections. */
  readonly heldChunks: number;
  readonly connections: number;
  close(): Promise<void>;
}

interface Held {
  readonly at: number;
  readonly chunk: Buffer;
}

export async function startFaultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  let open = true;
  let stalled = false;
  let delay: number | { min: number; max: number } = 0;
  let held = 0;
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const delayNow = () =>
    typeof delay === 'number' ? delay : delay.min + Math.random() * (delay.max - delay.min);

  /** Upstream -> client, through an ordered delay line with one timer per connection. */
  const delayedRelay = (from: Socket, to: Socket) => {
    const line: Held[] = [];
    let timer: NodeJS.Timeout | null = null;
    let last = 0;
    const release = () => {
      timer = null;
      const now = Date.now();
      while (line.length > 0 && line[0]!.at <= now) {
        held--;
        const { chunk } = line.shift()!;
        if (!to.destroyed) to.write(chunk);
      }
      if (line.length > 0) timer = setTimeout(release, line[0]!.at - now);
    };
    from.on('data', (chunk: Buffer) => {
      const ms = delayNow();
      if (ms <= 0 && line.length === 0) {
        to.write(chunk);
        return;
      }
      const at = Math.max(Date.now() + ms, last);
      last = at;
      line.push({ at, chunk });
      held++;
      timer ??= setTimeout(release, Math.max(0, at - Date.now()));
    });
    from.once('close', () => {
      if (timer) clearTimeout(timer);
      held -= line.length;
      line.length = 0;
    });
  };

  /** Client -> upstream, with TCP backpressure, and not at all while stalled. */
  const plainRelay = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!stalled) from.resume();
        });
      }
    });
  };

  const server: Server = createServer((client) => {
    track(client);
    if (!open) {
      client.destroy();
      return;
    }
    clients.add(client);
    client.on('close', () => clients.delete(client));
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    plainRelay(client, upstream);
    delayedRelay(upstream, client);
    if (stalled) client.pause();
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy did not bind');
  return {
    port: address.port,
    delayReplies: (ms) => {
      delay = ms;
    },
    stall: () => {
      stalled = true;
      for (const client of clients) client.pause();
    },
    resume: () => {
      stalled = false;
      for (const client of clients) client.resume();
    },
    cut: () => {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      open = true;
    },
    get heldChunks() {
      return held;
    },
    get connections() {
      return clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
