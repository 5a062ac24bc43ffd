// Secrets are write-only: whatever leaves the control plane carries REDACTED in
// their place, and REDACTED sent back means "keep the stored secret".
import { normalizeDomain } from './domain-names';
import type { MeridianConfigDocument } from './documents';
import { isObjectLike } from './validation-engine';

export const REDACTED = '**redacted**';

export const UNRESOLVED_PLACEHOLDER_MESSAGE = 'redacted placeholder given but no stored secret';

/** A copy of `doc` with auth.jwt.secret and every component secret replaced by REDACTED. */
export function redactConfig(doc: MeridianConfigDocument): MeridianConfigDocument {
  const copy = structuredClone(doc);
  if (typeof copy.auth?.jwt?.secret === 'string') copy.auth.jwt.secret = REDACTED;
  for (const component of copy.components ?? []) {
    if (typeof component.secret === 'string') component.secret = REDACTED;
  }
  return copy;
}

/**
 * Puts stored secrets back where `incoming` (an unvalidated document) carries
 * REDACTED: auth.jwt.secret, and component secrets matched by domain. A placeholder
 * with nothing to restore stays, and validateConfig then rejects it. Returns a new
 * object when something was restored; `incoming` is never modified.
 */
export function restoreRedactedSecrets(
  incoming: unknown,
  stored: MeridianConfigDocument | null,
): unknown {
  if (!isObjectLike(incoming) || stored === null) return incoming;
  let result: Record<string, unknown> = incoming;

  const auth = incoming.auth;
  const storedJwtSecret = stored.auth?.jwt?.secret;
  if (
    isObjectLike(auth) &&
    isObjectLike(auth.jwt) &&
    auth.jwt.secret === REDACTED &&
    typeof storedJwtSecret === 'string'
  ) {
    result = { ...result, auth: { ...auth, jwt: { ...auth.jwt, secret: storedJwtSecret } } };
  }

  const components = incoming.components;
  if (Array.isArray(components)) {
    const storedSecrets = new Map((stored.components ?? []).map((c) => [c.domain, c.secret]));
    let restored = false;
    const merged = components.map((component: unknown) => {
      if (
        !isObjectLike(component) ||
        component.secret !== REDACTED ||
        typeof component.domain !== 'string'
      )
        return component;
      const secret = storedSecrets.get(normalizeDomain(component.domain));
      if (secret === undefined) return component;
      restored = true;
      return { ...component, secret };
    });
    if (restored) result = { ...result, components: merged };
  }
  return result;
}
