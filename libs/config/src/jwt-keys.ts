// What the router will accept as a JWT verification key, checked when the
// configuration is written rather than when the first login fails.
import { createPublicKey, type KeyObject } from 'node:crypto';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** HMAC keys shorter than the SHA-256 output weaken HS256 (RFC 7518 section 3.2). */
export const MIN_HS256_SECRET_LENGTH = 32;
/** The smallest RSA modulus accepted for RS256 (RFC 7518 section 3.3, and jose's floor). */
export const MIN_RSA_MODULUS_BITS = 2048;

const SPKI_PEM =
  /^\s*-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/;

/**
 * Returns what is wrong with `pem` as the verification key for `algorithm`, or null.
 * Only a single SPKI block is accepted: a private key would be derivable into a
 * public one by node:crypto, but it must never sit in a document that every reader
 * of the configuration sees.
 */
export function publicKeyProblem(pem: string, algorithm: 'RS256' | 'ES256'): string | null {
  if (/PRIVATE KEY/.test(pem))
    return 'is a private key; give only the public key ("-----BEGIN PUBLIC KEY-----")';
  if (!SPKI_PEM.test(pem))
    return 'must be one PEM public key ("-----BEGIN PUBLIC KEY-----" ... "-----END PUBLIC KEY-----")';
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem.trim(), format: 'pem' });
  } catch {
    return 'is not a readable PEM public key';
  }
  if (algorithm === 'RS256') {
    if (key.asymmetricKeyType !== 'rsa')
      return `must be an RSA key for RS256 (this is a ${key.asymmetricKeyType} key)`;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_MODULUS_BITS)
      return `must be an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits (this one has ${bits})`;
    return null;
  }
  if (key.asymmetricKeyType !== 'ec')
    return `must be an EC P-256 key for ES256 (this is a ${key.asymmetricKeyType} key)`;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'prime256v1')
    return `must be on curve P-256 (prime256v1) for ES256 (this one is on ${curve ?? 'an unknown curve'})`;
  return null;
}
