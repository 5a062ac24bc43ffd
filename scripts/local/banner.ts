// The table `npm start` prints once everything is ready.
import { relative, isAbsolute } from 'node:path';
import type { LocalInstallation } from '../../apps/meridianctl/src/local-installation';
import { table } from '../../apps/meridianctl/src/output';

export interface BannerTokens {
  readonly alice: string;
  readonly bob: string;
  readonly ttl: string;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export function banner(
  installation: LocalInstallation,
  tokens: BannerTokens,
  stateDirPrefix: string,
): string {
  const byDc = new Map<string, string[]>();
  for (const router of installation.routers) {
    byDc.set(router.localHost, [...(byDc.get(router.localHost) ?? []), router.node]);
  }
  const served = [...byDc].map(([dc, nodes]) => `${dc} (${nodes.join(', ')})`).join(' and ');
  const rows = installation.routers.map((r) => [
    r.node,
    r.localHost,
    `127.0.0.1:${r.c2sPort}`,
    `ws://127.0.0.1:${r.httpPort}/xmpp-websocket`,
    String(r.componentPort),
    `127.0.0.1:${r.interlinkPort}`,
  ]);
  const routerTable = table(
    ['router', 'datacenter', 'c2s (STARTTLS)', 'WebSocket', 'components', 'interlink (mTLS)'],
    rows,
  )
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  const control = installation.controlUrl;
  const ctl = `${stateDirPrefix}npx meridianctl`;
  const [dc1, dc2] = [...byDc.keys()].map((dc) => dc.split('.')[0]);
  return [
    '',
    `Meridian: ${installation.globalHost} served from ${served}`,
    '',
    routerTable,
    '',
    `  control    ${control}/v1   API docs ${control}/docs   admin token: ${shown(installation.adminTokenFile)}`,
    `  dev CA     ${shown(installation.caFile)}   (clients must trust it; the routers' name is ${installation.globalHost})`,
    `  alice JWT  ${tokens.alice}`,
    `  bob JWT    ${tokens.bob}`,
    `             (alice@${installation.globalHost} and bob@${installation.globalHost}, SASL PLAIN password, valid ${tokens.ttl}; more: ${ctl} token mint <jid>)`,
    '',
    `  chat       ${ctl} chat --as alice@${installation.globalHost} --dc ${dc1} --to bob@${installation.globalHost}` +
      `   (and in another terminal: --as bob@${installation.globalHost} --dc ${dc2} --to alice@${installation.globalHost})`,
    `  status     ${ctl} status      logs: ${shown(installation.logDir)}/      Ctrl-C stops everything`,
    '',
  ].join('\n');
}
