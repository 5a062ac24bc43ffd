// A router as an operator runs it (`node dist/apps/router/src/main.js`), for fault tests that
// kill or stop it: its own ports on loopback, c2s STARTTLS with the test certificate, its
// output kept (the last 50 kB) for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePorts, until } from './router-cluster';
import { testTls } from './test-tls';

export const ROUTER_MAIN = 'dist/apps/router/src/main.js';

export interface RouterProcess {
  readonly name: string;
  readonly localHost: string;
  readonly c2sPort: number;
  readonly httpPort: number;
  readonly child: ChildProcess;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
  /** Status of GET /health/ready (0 when it does not answer). */
  ready(): Promise<number>;
}

export interface RouterProcessOptions {
  readonly redisUrl: string;
  readonly localHost: string;
  readonly node: string;
  readonly env?: Record<string, string>;
  /** How long to wait for /health/ready (the router may wait for a first revision). */
  readonly readyTimeoutMs?: number;
}

/** Starts a router and resolves once it is ready; fails at once, with its output, if it exits. */
export async function startRouterProcess(options: RouterProcessOptions): Promise<RouterProcess> {
  const tls = testTls();
  const [httpPort, c2sPort, componentPort, interlinkPort] = await freePorts(4);
  const child = spawn(process.execPath, [ROUTER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      MERIDIAN_LOCAL_HOST: options.localHost,
      MERIDIAN_NODE: options.node,
      REDIS_URL: options.redisUrl,
      HTTP_PORT: String(httpPort),
      C2S_PORT: String(c2sPort),
      COMPONENT_PORT: String(componentPort),
      INTERLINK_LISTEN: `127.0.0.1:${interlinkPort}`,
      TLS_CERT: tls.certFile,
      TLS_KEY: tls.keyFile,
      TLS_CA: tls.caFile,
      CONFIG_BOOT_TIMEOUT_MS: '20000',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-50_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const router: RouterProcess = {
    name: options.node,
    localHost: options.localHost,
    c2sPort,
    httpPort,
    child,
    exited,
    output: () => output,
    ready: async () =>
      (await fetch(`http://127.0.0.1:${httpPort}/health/ready`).catch(() => null))?.status ?? 0,
  };
  try {
    await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`router ${options.node} exited: ${output}`);
        return (await router.ready()) === 200;
      },
      options.readyTimeoutMs ?? 30_000,
      `router ${options.node} of ${options.localHost} ready`,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return router;
}
