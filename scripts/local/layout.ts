// What `npm start` runs and on which ports (documented in docs/operations.md#local-installation):
// control, two router nodes for dc1 and one for dc2. MERIDIAN_PORT_OFFSET shifts every port,
// PORT sets control's, so a second installation (the smoke test) can run beside the first.
import type { LocalRouter } from '../../apps/meridianctl/src/local-installation';

export const GLOBAL_HOST = 'example.com';

export interface RouterSlot {
  readonly node: string;
  readonly localHost: string;
  readonly c2sPort: number;
  readonly httpPort: number;
  readonly componentPort: number;
  readonly interlinkPort: number;
}

const ROUTERS: readonly RouterSlot[] = [
  {
    node: 'dc1-a',
    localHost: 'dc1.example.com',
    c2sPort: 5222,
    httpPort: 5280,
    componentPort: 5347,
    interlinkPort: 5555,
  },
  {
    node: 'dc1-b',
    localHost: 'dc1.example.com',
    c2sPort: 5223,
    httpPort: 5281,
    componentPort: 5348,
    interlinkPort: 5556,
  },
  {
    node: 'dc2-a',
    localHost: 'dc2.example.com',
    c2sPort: 6222,
    httpPort: 6280,
    componentPort: 6347,
    interlinkPort: 6555,
  },
];

export const DATACENTERS = [
  { localHost: 'dc1.example.com', region: 'local-1' },
  { localHost: 'dc2.example.com', region: 'local-2' },
];

export interface Layout {
  readonly controlPort: number;
  readonly routers: readonly RouterSlot[];
}

export function layoutFor(env: Readonly<Record<string, string | undefined>>): Layout {
  const offset = Number(env.MERIDIAN_PORT_OFFSET || 0);
  if (!Number.isInteger(offset) || offset < 0 || offset > 50_000) {
    throw new Error(
      `MERIDIAN_PORT_OFFSET must be a whole number from 0 to 50000, not "${env.MERIDIAN_PORT_OFFSET}"`,
    );
  }
  const controlPort = env.PORT ? Number(env.PORT) : 8080 + offset;
  if (!Number.isInteger(controlPort) || controlPort < 1 || controlPort > 65_535) {
    throw new Error(`PORT must be a TCP port, not "${env.PORT}"`);
  }
  return {
    controlPort,
    routers: ROUTERS.map((slot) => ({
      ...slot,
      c2sPort: slot.c2sPort + offset,
      httpPort: slot.httpPort + offset,
      componentPort: slot.componentPort + offset,
      interlinkPort: slot.interlinkPort + offset,
    })),
  };
}

export function portsOf(layout: Layout): { port: number; what: string }[] {
  return [
    { port: layout.controlPort, what: 'control' },
    ...layout.routers.flatMap((r) => [
      { port: r.c2sPort, what: `${r.node} c2s` },
      { port: r.httpPort, what: `${r.node} HTTP/WebSocket` },
      { port: r.componentPort, what: `${r.node} components` },
      { port: r.interlinkPort, what: `${r.node} interlink` },
    ]),
  ];
}

export function asLocalRouter(slot: RouterSlot, pid: number | null): LocalRouter {
  return { ...slot, pid };
}
