// HS256 JWT verification with node:crypto, for the login hot path. jose verifies through
// WebCrypto, whose HMAC runs as an asynchronous job: measured at about 100 µs per login, a
// fifth of a login's CPU; a synchronous HMAC over the same bytes costs a few µs. The checks
// are jose's, made here for this one algorithm (the spec compares both on the same tokens):
// compact form with three base64url parts, a JSON object header with alg HS256 and no `crit`,
// a 32-byte signature compared in constant time, a JSON object payload, and exp/nbf/iat
// numeric dates with the leeway.
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

export type Hs256Failure = 'malformed-token' | 'wrong-algorithm' | 'bad-signature';

export type Hs256Result =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly reason: Hs256Failure };

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function verifyHs256(token: string, key: KeyObject): Hs256Result {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    return { ok: false, reason: 'malformed-token' };
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = jsonObject(encodedHeader);
  if (!header) return { ok: false, reason: 'malformed-token' };
  if (header.alg !== 'HS256') return { ok: false, reason: 'wrong-algorithm' };
  // No extension is understood, so a token that declares one critical is refused (RFC 7515).
  if (header.crit !== undefined || header.b64 !== undefined) {
    return { ok: false, reason: 'malformed-token' };
  }
  const signature = Buffer.from(encodedSignature, 'base64url');
  const expected = createHmac('sha256', key).update(`${encodedHeader}.${encodedPayload}`).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  const payload = jsonObject(encodedPayload);
  if (!payload) return { ok: false, reason: 'malformed-token' };
  return { ok: true, payload };
}

function jsonObject(encoded: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export type TimeClaimFailure = 'expired' | 'missing-exp' | 'not-yet-valid' | 'malformed-token';

/** exp, nbf and iat against `nowS` with `leewayS`, as jose's jwtVerify checks them. */
export function checkTimeClaims(
  payload: Record<string, unknown>,
  nowS: number,
  leewayS: number,
  requireExp: boolean,
): TimeClaimFailure | null {
  const { exp, nbf, iat } = payload;
  for (const claim of [exp, nbf, iat]) {
    if (claim !== undefined && (typeof claim !== 'number' || !Number.isFinite(claim))) {
      return 'malformed-token';
    }
  }
  if (exp === undefined) {
    if (requireExp) return 'missing-exp';
  } else if ((exp as number) <= nowS - leewayS) {
    return 'expired';
  }
  if (nbf !== undefined && (nbf as number) > nowS + leewayS) return 'not-yet-valid';
  if (iat !== undefined && (iat as number) > nowS + leewayS) return 'not-yet-valid';
  return null;
}
