// The password of a SASL PLAIN login is a JWT (MongooseIM's jwt auth method). The token must
// be signed with the configured algorithm (never `none`: jose's jwtVerify has no unsecured
// mode, and the header's alg is checked against the configured one first), carry the
// username claim equal to the localpart, and be within exp/nbf/iat with 30 s leeway.
// During a key rotation (auth.jwt.previousSecret / previousPublicKey) a token whose signature
// the current key refuses is tried with the previous key; once the previous key is removed
// from the configuration, such a token is refused. The token itself is never logged or returned.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import type { JwtAlgorithm, JwtDocument } from '#config';
import { checkTimeClaims, verifyHs256 } from './hs256';

/** Clock leeway for exp, nbf and iat (ARCHITECTURE §12). */
export const JWT_LEEWAY_S = 30;

export type JwtLoginFailure =
  | 'malformed-token'
  | 'wrong-algorithm'
  | 'bad-signature'
  | 'expired'
  | 'missing-exp'
  | 'not-yet-valid'
  | 'user-mismatch'
  | 'no-key';

export type JwtLoginResult =
  /** `previousKey`: verified by the previous key of a rotation (absent for the current key). */
  | { readonly ok: true; readonly previousKey?: true }
  | { readonly ok: false; readonly reason: JwtLoginFailure };

/** HS256 is verified with node:crypto (hs256.ts); RS256 and ES256 by jose. */
type VerificationKey = (
  | { readonly kind: 'hmac'; readonly key: KeyObject }
  | { readonly kind: 'jose'; readonly key: CryptoKey }
) & { readonly previous: boolean };

/** Case-insensitive comparison after Unicode normalisation (RFC 7622 localparts are case-mapped). */
export function normalizeUsername(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** The keys of a revision, in the order they are tried: the current one, then the previous. */
type VerificationKeys = readonly VerificationKey[];

type Verified =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly reason: JwtLoginFailure };

export class JwtLoginVerifier {
  /** Keyed by the frozen jwt section of a revision: a new revision imports its keys once. */
  private readonly keys = new WeakMap<JwtDocument, Promise<VerificationKeys>>();

  /** `localpart` is the normalised localpart of the JID logging in. */
  async verify(
    token: string,
    localpart: string,
    config: JwtDocument,
    nowMs: number = Date.now(),
  ): Promise<JwtLoginResult> {
    const fail = (reason: JwtLoginFailure): JwtLoginResult => ({ ok: false, reason });
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return fail('malformed-token');
    }
    if (alg !== config.algorithm) return fail('wrong-algorithm');
    const keys = await this.keysOf(config);
    if (keys.length === 0) return fail('no-key');

    // The signature is checked before any claim, so only a signature that one key refuses
    // sends the token on to the next key; any other failure is the token's own.
    let verified: Verified = { ok: false, reason: 'bad-signature' };
    let previousKey = false;
    for (const key of keys) {
      verified = await verifyWith(key, token, config, nowMs);
      previousKey = key.previous;
      if (verified.ok || verified.reason !== 'bad-signature') break;
    }
    if (!verified.ok) return fail(verified.reason);
    const claimed = verified.payload[config.usernameClaim];
    if (
      typeof claimed !== 'string' ||
      normalizeUsername(claimed) !== normalizeUsername(localpart)
    ) {
      return fail('user-mismatch');
    }
    return previousKey ? { ok: true, previousKey: true } : { ok: true };
  }

  private keysOf(config: JwtDocument): Promise<VerificationKeys> {
    let keys = this.keys.get(config);
    if (!keys) {
      keys = importKeys(config);
      this.keys.set(config, keys);
    }
    return keys;
  }
}

async function verifyWith(
  key: VerificationKey,
  token: string,
  config: JwtDocument,
  nowMs: number,
): Promise<Verified> {
  const nowS = Math.floor(nowMs / 1000);
  if (key.kind === 'hmac') {
    const verified = verifyHs256(token, key.key);
    if (!verified.ok) return verified;
    const late = checkTimeClaims(verified.payload, nowS, JWT_LEEWAY_S, config.requireExp);
    return late ? { ok: false, reason: late } : verified;
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.key, {
      algorithms: [config.algorithm],
      clockTolerance: JWT_LEEWAY_S,
      currentDate: new Date(nowMs),
      requiredClaims: config.requireExp ? ['exp'] : [],
    }));
  } catch (err) {
    return { ok: false, reason: failureOf(err) };
  }
  // jose checks iat only against a maximum age; a token issued in the future is refused here.
  if (typeof payload.iat === 'number' && payload.iat > nowS + JWT_LEEWAY_S) {
    return { ok: false, reason: 'not-yet-valid' };
  }
  return { ok: true, payload };
}

/** The current key, then the previous one; a key that cannot be imported is left out. */
async function importKeys(config: JwtDocument): Promise<VerificationKeys> {
  const material =
    config.algorithm === 'HS256'
      ? [config.secret, config.previousSecret]
      : [config.publicKey, config.previousPublicKey];
  // The previous key only ever stands beside a current one (the configuration checks it).
  if (!material[0]) return [];
  const keys = await Promise.all(
    material.map((value, index) =>
      value ? importKey(config.algorithm, value, index === 1) : null,
    ),
  );
  return keys.filter((key): key is VerificationKey => key !== null);
}

async function importKey(
  algorithm: JwtAlgorithm,
  value: string,
  previous: boolean,
): Promise<VerificationKey | null> {
  try {
    if (algorithm === 'HS256') {
      return { kind: 'hmac', key: createSecretKey(Buffer.from(value)), previous };
    }
    return { kind: 'jose', key: await importSPKI(value.trim(), algorithm), previous };
  } catch {
    return null;
  }
}

function failureOf(err: unknown): JwtLoginFailure {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'exp' && err.reason === 'missing') return 'missing-exp';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'not-yet-valid';
    return 'malformed-token';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'wrong-algorithm';
  return 'malformed-token';
}
