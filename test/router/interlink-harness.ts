// Shared pieces of the interlink integration tests: nodes with their own metrics registry and an
// in-memory endpoint source, envelopes, polling, metric reads and test certificates.
import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { defaultConfig, type MeridianConfigDocument } from '#config';
import type { InterlinkEnvelope } from '#interlink';
import type { HostPort } from '../../apps/router/src/env/router-env';
import {
  InterlinkService,
  type EndpointSource,
  type InterlinkOptionsOverrides,
  type InterlinkPeer,
  type NodeEndpoint,
  type RemoteEndpoint,
} from '../../apps/router/src/interlink';
import { GdMetrics } from '../../apps/router/src/metrics/gd-metrics';

if (!process.env.INTERLINK_TEST_LOGS) Logger.overrideLogger(false);

/** Endpoints the test sets by hand; counts reads so tests can see refreshes. */
export class MemoryEndpointSource implements EndpointSource {
  private readonly datacenters = new Map<string, RemoteEndpoint[]>();
  reads = 0;
  failing = false;

  set(localHost: string, endpoints: RemoteEndpoint[]): void {
    this.datacenters.set(localHost, endpoints);
  }

  add(localHost: string, endpoint: RemoteEndpoint): void {
    this.set(localHost, [...(this.datacenters.get(localHost) ?? []), endpoint]);
  }

  remove(localHost: string, port: number): void {
    this.set(
      localHost,
      (this.datacenters.get(localHost) ?? []).filter((endpoint) => endpoint.port !== port),
    );
  }

  async endpointsOf(localHost: string): Promise<RemoteEndpoint[]> {
    this.reads++;
    if (this.failing) throw new Error('source down');
    return [...(this.datacenters.get(localHost) ?? [])];
  }

  async endpointsOfNode(localHost: string, node: string): Promise<NodeEndpoint[]> {
    this.reads++;
    return (this.datacenters.get(localHost) ?? [])
      .filter((endpoint) => endpoint.node === node)
      .map(({ host, port }) => ({ host, port }));
  }
}

export interface Received {
  envelope: InterlinkEnvelope;
  peer: InterlinkPeer;
}

export interface TestNode {
  readonly localHost: string;
  readonly node: string;
  readonly service: InterlinkService;
  readonly registry: Registry;
  readonly address: HostPort;
  readonly endpoint: RemoteEndpoint;
  readonly received: Received[];
  close(): Promise<void>;
}

export interface NodeSpec {
  localHost: string;
  node: string;
  source?: EndpointSource;
  /** Changes to the default revision (TLS off unless tls files are given). */
  config?: (config: MeridianConfigDocument) => void;
  options?: InterlinkOptionsOverrides;
  tls?: { certFile: string; keyFile: string; caFile: string };
  port?: number;
  /** Leave the handler unset (received stanzas then wait for one). */
  noHandler?: boolean;
}

export function testConfig(change?: (config: MeridianConfigDocument) => void, tls = false) {
  const config = defaultConfig('example.com');
  config.connections.tls.enabled = tls;
  change?.(config);
  return config;
}

export async function startNode(spec: NodeSpec): Promise<TestNode> {
  const registry = new Registry();
  const service = new InterlinkService(
    {
      localHost: spec.localHost,
      node: spec.node,
      interlinkListen: { host: '127.0.0.1', port: spec.port ?? 0 },
      tls: spec.tls ?? {},
    },
    new GdMetrics(registry),
    spec.source ?? new MemoryEndpointSource(),
    { sendTimeoutMs: 5_000, helloTimeoutMs: 1_000, ...spec.options },
  );
  service.applyConfig(testConfig(spec.config, spec.tls !== undefined));
  const received: Received[] = [];
  if (!spec.noHandler) {
    service.setHandler(async (envelope, peer) => {
      received.push({ envelope, peer });
    });
  }
  const address = await service.listen();
  return {
    localHost: spec.localHost,
    node: spec.node,
    service,
    registry,
    address,
    endpoint: { node: spec.node, host: address.host, port: address.port },
    received,
    close: () => service.close(),
  };
}

export function envelope(
  senderKey: string,
  n: number,
  extra: Partial<InterlinkEnvelope> = {},
): InterlinkEnvelope {
  return {
    ttl: 3,
    origin: 'dc1.example.com',
    stanzaId: `${senderKey}-${n}`,
    sentAtUs: Math.round((performance.timeOrigin + performance.now()) * 1000),
    senderKey,
    bounceAttempts: 0,
    targetNode: null,
    stanza: `<message from='${senderKey}' id='${n}'><body>${n}</body></message>`,
    ...extra,
  };
}

/** The numbers a sender's stanzas carried, in the order the handler saw them. */
export function sequenceOf(received: Received[], senderKey: string): number[] {
  return received
    .filter(({ envelope }) => envelope.senderKey === senderKey)
    .map(({ envelope }) => Number(envelope.stanzaId.slice(senderKey.length + 1)));
}

export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A metric's value for the given labels (0 when absent); histograms give their count. */
export async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const found = registry.getSingleMetric(name);
  if (!found) throw new Error(`no metric ${name}`);
  const { values } = await found.get();
  const matches = values.filter(
    (value) =>
      Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted) &&
      (!name.endsWith('_seconds') ||
        (value as { metricName?: string }).metricName?.endsWith('_count')),
  );
  return matches.reduce((sum, value) => sum + value.value, 0);
}

export interface TestCertificates {
  readonly dir: string;
  /** Files of a node certificate signed by the cluster CA. */
  node(name: string): { certFile: string; keyFile: string; caFile: string };
  /** A certificate and key signed by another CA (with the cluster CA as trust anchor). */
  readonly rogue: { certFile: string; keyFile: string; caFile: string };
}

/** A CA, node certificates (with IP SAN 127.0.0.1) and a rogue CA, made with the openssl CLI. */
export function makeCertificates(names: string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-interlink-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const makeCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    );
  const makeLeaf = (name: string, ca: string) => {
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    writeFileSync(
      join(dir, `${name}.ext`),
      'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  makeCa('cluster-ca');
  makeCa('rogue-ca');
  for (const name of names) makeLeaf(name, 'cluster-ca');
  makeLeaf('rogue', 'rogue-ca');
  const files = (name: string) => ({
    certFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
    caFile: join(dir, 'cluster-ca.crt'),
  });
  return { dir, node: files, rogue: files('rogue') };
}
