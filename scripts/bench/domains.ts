// Dynamic domains created through control's REST API while the benchmark watches them go live:
// a sample of them is probed on every router's c2s port (a stream header to the new domain is
// answered with stream features once the router serves it, with host-unknown before), so
// "live" means what a client sees, not what control or Redis says.
import net from 'node:net';
import type { MeridianUnderTest } from './meridian';
import { summarise, type Summary } from './stats';

export interface DomainLoad {
  readonly count: number;
  /** Creations per second over the whole load (201s from control). */
  readonly perSecond: number;
  /** Creations per second in each whole second of the load. */
  readonly perSecondWindows: Summary | null;
  /** From control's answer to the domain being served by every router, for the sample. */
  readonly liveOnEveryRouterMs: Summary | null;
  readonly sampled: number;
  /** Sampled domains not live on every router within the probe timeout. */
  readonly notLive: number;
}

const CONCURRENCY = 16;
const PROBE_EVERY = 100;
const PROBE_TIMEOUT_MS = 10_000;

export async function loadDomains(
  meridian: MeridianUnderTest,
  count: number,
  stop: AbortSignal,
  log: (line: string) => void,
): Promise<DomainLoad> {
  log(`creating ${count} dynamic domains through control (${CONCURRENCY} at a time)`);
  const ports = meridian.installation.routers.map((r) => r.c2sPort);
  const body = JSON.stringify({ hostType: 'default' });
  const started = performance.now();
  const windows: number[] = [];
  const probes: Promise<number | null>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !stop.aborted) {
      const index = next++;
      const domain = `d${index}.bench.test`;
      const answer = await meridian.api(`/v1/domains/${domain}`, { method: 'PUT', body });
      if (!answer.ok) {
        throw new Error(`PUT /v1/domains/${domain}: ${answer.status} ${await answer.text()}`);
      }
      const second = Math.floor((performance.now() - started) / 1000);
      windows[second] = (windows[second] ?? 0) + 1;
      if (index % PROBE_EVERY === 0) probes.push(liveEverywhere(domain, ports));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedMs = performance.now() - started;
  const live = await Promise.all(probes);
  const measured = live.filter((ms): ms is number => ms !== null);
  const whole = windows.slice(0, Math.floor(elapsedMs / 1000));
  const result: DomainLoad = {
    count,
    perSecond: Math.round((count * 1000) / elapsedMs),
    perSecondWindows: summarise(Float64Array.from(whole, (v) => v ?? 0)),
    liveOnEveryRouterMs: summarise(Float64Array.from(measured)),
    sampled: live.length,
    notLive: live.length - measured.length,
  };
  log(
    `${count} domains at ${result.perSecond}/s; live on every router: p99 ` +
      `${result.liveOnEveryRouterMs?.p99.toFixed(0) ?? '-'} ms (${result.notLive} of ${result.sampled} sampled not live)`,
  );
  return result;
}

/** Ms until every router serves `domain`; null when one still does not after the timeout. */
async function liveEverywhere(domain: string, ports: readonly number[]): Promise<number | null> {
  const started = performance.now();
  const deadline = started + PROBE_TIMEOUT_MS;
  for (const port of ports) {
    for (;;) {
      if (await serves(port, domain)) break;
      if (performance.now() > deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  return performance.now() - started;
}

/** Opens a c2s stream to `domain`: true when the router answers with stream features. */
function serves(port: number, domain: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(5_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () =>
      socket.write(
        `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
          `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
      ),
    );
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('<stream:features')) done(true);
      else if (text.includes('host-unknown') || text.includes('</stream:stream>')) done(false);
    });
  });
}
