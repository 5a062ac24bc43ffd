// The password of a SASL PLAIN login is a JWT (MongooseIM's jwt auth method). The token must
// be signed with the configured algorithm (never `none`: jose's jwtVerify has no unsecured
// mode, and the header's alg is checked against the configured one first), carry the
// username claim equal to the localpart, and be within exp/nbf/iat with 30 s leeway.
// The token itself is never logged or returned.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, importSPKI, jwtVerify, type CryptoKey } from 'jose';
import type { JwtDocument } from '#config';
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
  { readonly ok: true } | { readonly ok: false; readonly reason: JwtLoginFailure };

/** HS256 is verified with node:crypto (hs256.ts); RS256 and ES256 by jose. */
type VerificationKey =
  | { readonly kind: 'hmac'; readonly key: KeyObject }
  | { readonly kind: 'jose'; readonly key: CryptoKey };

/** Case-insensitive comparison after Unicode normalisation (RFC 7622 localparts are case-mapped). */
export function normalizeUsername(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

export class JwtLoginVerifier {
  /** Keyed by the frozen jwt section of a revision: a new revision imports its key once. */
  private readonly keys = new WeakMap<JwtDocument, Promise<VerificationKey | null>>();

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
    const key = await this.keyOf(config);
    if (!key) return fail('no-key');

    let payload: Record<string, unknown>;
    const nowS = Math.floor(nowMs / 1000);
    if (key.kind === 'hmac') {
      const verified = verifyHs256(token, key.key);
      if (!verified.ok) return fail(verified.reason);
      payload = verified.payload;
      const late = checkTimeClaims(payload, nowS, JWT_LEEWAY_S, config.requireExp);
      if (late) return fail(late);
    } else {
      try {
        ({ payload } = await jwtVerify(token, key.key, {
          algorithms: [config.algorithm],
          clockTolerance: JWT_LEEWAY_S,
          currentDate: new Date(nowMs),
          requiredClaims: config.requireExp ? ['exp'] : [],
        }));
      } catch (err) {
        return fail(failureOf(err));
      }
      // jose checks iat only against a maximum age; a token issued in the future is refused here.
      if (typeof payload.iat === 'number' && payload.iat > nowS + JWT_LEEWAY_S) {
        return fail('not-yet-valid');
      }
    }
    const claimed = payload[config.usernameClaim];
    if (
      typeof claimed !== 'string' ||
      normalizeUsername(claimed) !== normalizeUsername(localpart)
    ) {
      return fail('user-mismatch');
    }
    return { ok: true };
  }

  private keyOf(config: JwtDocument): Promise<VerificationKey | null> {
    let key = this.keys.get(config);
    if (!key) {
      key = importKey(config);
      this.keys.set(config, key);
    }
    return key;
  }
}

async function importKey(config: JwtDocument): Promise<VerificationKey | null> {
  try {
    if (config.algorithm === 'HS256') {
      return config.secret
        ? { kind: 'hmac', key: createSecretKey(Buffer.from(config.secret)) }
        : null;
    }
    if (!config.publicKey) return null;
    return { kind: 'jose', key: await importSPKI(config.publicKey.trim(), config.algorithm) };
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
