// `meridianctl chat --as alice@example.com --dc dc1 [--to bob@example.com]`: a tiny XMPP
// client for the demo and for smoke tests, built on xmpp.js (@xmpp/client) over c2s with
// STARTTLS and a dev JWT. The router's certificate is verified against the dev CA: xmpp.js
// passes no CA to STARTTLS, so chat runs itself again with NODE_EXTRA_CA_CERTS set to the CA
// (read by Node at start only) instead of ever switching verification off.
//
// Lines typed are sent to the current recipient; `/to <jid>` changes it, `/quit` (or end of
// input) leaves. Printed on stdout: `online as <full jid> (<node>, <host:port>)`, then one
// `<from>: <body>` per message received; errors go to stderr.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Element } from 'ltx';
import type { CommandContext } from '../cli-context';
import { mintDevToken } from '../dev-token';
import { CliError, ExitCode, usageError } from '../exit-codes';
import type { LocalRouter } from '../local-installation';
import { jwtSecretOf } from './token';

const CHAT_TOKEN_TTL_S = 3600;

interface Target {
  readonly host: string;
  readonly port: number;
  readonly label: string;
}

function targetOf(ctx: CommandContext): Target {
  const server = ctx.string('server');
  if (server) {
    const match = /^(.+):(\d{1,5})$/.exec(server);
    if (!match) throw usageError(`--server takes host:port, not "${server}"`);
    return { host: match[1]!, port: Number(match[2]), label: server };
  }
  const routers = [...(ctx.installation?.routers ?? [])].sort((a, b) =>
    a.node.localeCompare(b.node),
  );
  if (routers.length === 0) {
    throw usageError(
      'no local installation to find a router in (npm start runs one): pass --server host:port',
    );
  }
  const dc = ctx.string('dc');
  const matches = (router: LocalRouter) =>
    dc === undefined ||
    router.node === dc ||
    router.localHost === dc ||
    router.localHost.startsWith(`${dc}.`);
  const router = routers.find(matches);
  if (!router) {
    const known = routers.map((r) => `${r.node} (${r.localHost})`).join(', ');
    throw usageError(`no local router matches --dc ${dc}; there are: ${known}`);
  }
  return { host: '127.0.0.1', port: router.c2sPort, label: router.node };
}

function caFileOf(ctx: CommandContext): string {
  const ca = ctx.string('ca') ?? ctx.installation?.caFile ?? join(ctx.stateDir, 'tls', 'ca.crt');
  if (!existsSync(ca)) {
    throw usageError(`no CA certificate at ${ca} to verify the router with: pass --ca <file>`);
  }
  return ca;
}

export async function chatCommand(ctx: CommandContext): Promise<number> {
  ctx.noMoreArgs(0);
  const as = ctx.string('as');
  if (!as) throw usageError('missing --as <jid> (for example --as alice@example.com)');
  const bare = /^([^@/\s]+)@([^@/\s]+)$/.exec(as);
  if (!bare) throw usageError(`--as takes a bare JID such as alice@example.com, not "${as}"`);
  const target = targetOf(ctx);
  const caFile = caFileOf(ctx);

  if (ctx.io.env.NODE_EXTRA_CA_CERTS !== caFile) {
    if (!ctx.io.relaunch)
      throw new CliError('internal', 'chat cannot trust the CA in this process');
    return ctx.io.relaunch({ NODE_EXTRA_CA_CERTS: caFile });
  }

  const password =
    ctx.string('jwt') ??
    (await mintDevToken({ jid: as, secret: jwtSecretOf(ctx), ttlSeconds: CHAT_TOKEN_TTL_S })).token;
  const { client, xml } = await import('@xmpp/client');
  const xmpp = client({
    service: `xmpp://${target.host}:${target.port}`,
    domain: bare[2]!,
    username: bare[1]!,
    password,
    resource: ctx.string('resource'),
    timeout: 10_000,
  });
  xmpp.reconnect.stop();
  let peer = ctx.string('to') ?? null;
  let exitCode: number = ExitCode.ok;
  let leaving = false;
  let online = false;

  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.name !== 'message') return;
    const from = stanza.attrs.from ?? '?';
    if (stanza.attrs.type === 'error') {
      const condition = stanza.getChild('error')?.children.find((c) => typeof c !== 'string') as
        Element | undefined;
      ctx.io.err(`error from ${from}: ${condition?.name ?? 'unknown'}\n`);
      return;
    }
    const body = stanza.getChildText('body');
    if (body !== null) ctx.io.out(`${from}: ${body}\n`);
  });
  xmpp.on('error', (error) => {
    // Before login, start() rejects with the same error: reported once, below.
    if (leaving || !online) return;
    ctx.io.err(`chat: ${error.condition ?? error.message}\n`);
    exitCode = error.condition === 'not-authorized' ? ExitCode.auth : ExitCode.unavailable;
  });

  try {
    const jid = await xmpp.start();
    online = true;
    // Available first, so messages to the bare JID find this session from the moment it says so.
    await xmpp.send(xml('presence', {}));
    ctx.io.out(`online as ${jid.toString()} (${target.label}, ${target.host}:${target.port})\n`);
  } catch (err) {
    await xmpp.stop().catch(() => undefined);
    const error = err as Error & { condition?: string; code?: string };
    if (error.condition === 'not-authorized') {
      throw new CliError(
        'auth',
        `${as} was refused by ${target.label}: not-authorized (check the JWT and its secret)`,
      );
    }
    throw new CliError(
      'unavailable',
      `cannot log in at ${target.label} (${target.host}:${target.port}): ${error.condition ?? error.code ?? error.message}`,
    );
  }
  if (peer === null) ctx.io.err('type /to <jid> to choose whom to write to; /quit leaves\n');

  const lines = createInterface({ input: ctx.io.stdin, terminal: false });
  return new Promise<number>((resolve) => {
    const leave = () => {
      if (leaving) return;
      leaving = true;
      lines.close();
      process.off('SIGINT', leave);
      xmpp.stop().then(
        () => resolve(exitCode),
        () => resolve(exitCode),
      );
    };
    process.once('SIGINT', leave);
    xmpp.on('offline', () => {
      if (!leaving) {
        ctx.io.err('chat: disconnected by the server\n');
        if (exitCode === ExitCode.ok) exitCode = ExitCode.unavailable;
      }
      leave();
    });
    lines.on('close', leave);
    lines.on('line', (raw) => {
      const line = raw.trim();
      if (!line) return;
      if (line === '/quit') return leave();
      if (line.startsWith('/to')) {
        const next = line.slice(3).trim();
        if (!next) ctx.io.err(`writing to ${peer ?? 'nobody yet'}\n`);
        else peer = next;
        return;
      }
      if (peer === null) {
        ctx.io.err('no recipient: /to <jid> first\n');
        return;
      }
      xmpp
        .send(xml('message', { to: peer, type: 'chat' }, xml('body', {}, line)))
        .catch((err: Error) => ctx.io.err(`chat: not sent: ${err.message}\n`));
    });
  });
}
