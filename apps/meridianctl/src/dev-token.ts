// Development JWTs for c2s logins (SASL PLAIN with the token as password): HS256 signed with
// `auth.jwt.secret`, the username claim (`sub` by default) the JID's localpart, `exp` set.
import { SignJWT } from 'jose';

export interface DevTokenOptions {
  /** A bare or full JID (`alice@example.com`) or a bare localpart (`alice`). */
  readonly jid: string;
  readonly secret: string;
  readonly ttlSeconds: number;
  readonly claim?: string;
  readonly now?: number;
}

export interface DevToken {
  readonly token: string;
  readonly username: string;
  readonly expiresAt: string;
}

export function localpartOf(jid: string): string {
  const bare = jid.split('/')[0]!;
  const at = bare.indexOf('@');
  return (at === -1 ? bare : bare.slice(0, at)).toLowerCase();
}

export async function mintDevToken(options: DevTokenOptions): Promise<DevToken> {
  const username = localpartOf(options.jid);
  if (!username) throw new Error(`"${options.jid}" has no localpart (expected user@domain)`);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const exp = now + options.ttlSeconds;
  const token = await new SignJWT({ [options.claim ?? 'sub']: username })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(options.secret));
  return { token, username, expiresAt: new Date(exp * 1000).toISOString() };
}

/** `90s`, `15m`, `24h`, `7d` or plain seconds. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : null;
}
