// `meridianctl token mint <jid>`: a development JWT for a c2s login, signed with the
// configuration's HS256 secret (--secret, --secret-file, MERIDIAN_JWT_SECRET, or the one
// `npm start` keeps in .local/jwt-secret).
import { join } from 'node:path';
import type { CommandContext } from '../cli-context';
import { mintDevToken, parseDuration } from '../dev-token';
import { ExitCode, usageError } from '../exit-codes';
import { JWT_SECRET_FILE, readStateFile } from '../local-installation';

export const DEFAULT_TOKEN_TTL = '24h';

/** The HS256 secret from the options, the environment or the local installation. */
export function jwtSecretOf(ctx: CommandContext): string {
  const direct = ctx.string('secret');
  if (direct) return direct;
  const file = ctx.string('secret-file');
  if (file) {
    const secret = readStateFile(file);
    if (!secret) throw usageError(`cannot read a secret from ${file}`);
    return secret;
  }
  const secret =
    ctx.io.env.MERIDIAN_JWT_SECRET?.trim() ||
    readStateFile(ctx.installation?.jwtSecretFile ?? join(ctx.stateDir, JWT_SECRET_FILE));
  if (!secret) {
    throw usageError(
      'no JWT secret: pass --secret or --secret-file, or set MERIDIAN_JWT_SECRET (npm start keeps one in .local/jwt-secret)',
    );
  }
  return secret;
}

export function tokenTtlSeconds(ctx: CommandContext): number {
  const raw = ctx.string('ttl') ?? DEFAULT_TOKEN_TTL;
  const seconds = parseDuration(raw);
  if (seconds === null) throw usageError(`--ttl takes a duration such as 15m or 24h, not "${raw}"`);
  return seconds;
}

export async function tokenCommand(ctx: CommandContext): Promise<number> {
  const action = ctx.arg(0, 'action (mint)');
  if (action !== 'mint') throw usageError(`unknown token action "${action}" (mint)`);
  const jid = ctx.arg(1, 'JID (user@domain)');
  ctx.noMoreArgs(2);
  if (!/^[^@/\s]+@[^@/\s]+(\/.*)?$/.test(jid)) {
    throw usageError(`"${jid}" is not a user JID (user@domain)`);
  }
  let minted;
  try {
    minted = await mintDevToken({
      jid,
      secret: jwtSecretOf(ctx),
      ttlSeconds: tokenTtlSeconds(ctx),
      claim: ctx.string('claim'),
    });
  } catch (err) {
    throw usageError((err as Error).message);
  }
  ctx.print(minted, () => `${minted.token}\n`);
  return ExitCode.ok;
}
