// Secrets are write-only: whatever leaves the control plane carries REDACTED in
// their place, and REDACTED sent back means "keep the stored secret".
import { normalizeDomain } from './domain-names';
import type { ComponentDocument, JwtDocument, MeridianConfigDocument } from './documents';
import { isObjectLike } from './validation-engine';

export const REDACTED = '**redacted**';

export const UNRESOLVED_PLACEHOLDER_MESSAGE = 'redacted placeholder given but no stored secret';

/** The secret fields of auth.jwt (the public keys are not secret). */
export const JWT_SECRET_FIELDS = [
  'secret',
  'previousSecret',
] as const satisfies readonly (keyof JwtDocument)[];

/** The secret fields of each component. */
export const COMPONENT_SECRET_FIELDS = [
  'secret',
  'previousSecret',
] as const satisfies readonly (keyof ComponentDocument)[];

/** A copy of `doc` with every JWT secret and every component secret replaced by REDACTED. */
export function redactConfig(doc: MeridianConfigDocument): MeridianConfigDocument {
  const copy = structuredClone(doc);
  const jwt = copy.auth?.jwt;
  if (jwt) {
    for (const field of JWT_SECRET_FIELDS) {
      if (typeof jwt[field] === 'string') jwt[field] = REDACTED;
    }
  }
  for (const component of copy.components ?? []) {
    for (const field of COMPONENT_SECRET_FIELDS) {
      if (typeof component[field] === 'string') component[field] = REDACTED;
    }
  }
  return copy;
}

/** `fields` of `incoming` that are REDACTED, replaced by those of `stored`; null if none was. */
function restored(
  incoming: Record<string, unknown>,
  stored: object | undefined,
  fields: readonly string[],
): Record<string, unknown> | null {
  let result: Record<string, unknown> | null = null;
  for (const field of fields) {
    const storedValue = (stored as Partial<Record<string, unknown>> | undefined)?.[field];
    if (incoming[field] === REDACTED && typeof storedValue === 'string') {
      result = { ...(result ?? incoming), [field]: storedValue };
    }
  }
  return result;
}

/**
 * Puts stored secrets back where `incoming` (an unvalidated document) carries
 * REDACTED: the auth.jwt secrets, and component secrets matched by domain. A
 * placeholder with nothing to restore stays, and validateConfig then rejects it.
 * Returns a new object when something was restored; `incoming` is never modified.
 */
export function restoreRedactedSecrets(
  incoming: unknown,
  stored: MeridianConfigDocument | null,
): unknown {
  if (!isObjectLike(incoming) || stored === null) return incoming;
  let result: Record<string, unknown> = incoming;

  const auth = incoming.auth;
  if (isObjectLike(auth) && isObjectLike(auth.jwt)) {
    const jwt = restored(auth.jwt, stored.auth?.jwt, JWT_SECRET_FIELDS);
    if (jwt) result = { ...result, auth: { ...auth, jwt } };
  }

  const components = incoming.components;
  if (Array.isArray(components)) {
    const storedComponents = new Map((stored.components ?? []).map((c) => [c.domain, c]));
    let restoredAny = false;
    const merged = components.map((component: unknown) => {
      if (!isObjectLike(component) || typeof component.domain !== 'string') return component;
      const storedComponent = storedComponents.get(normalizeDomain(component.domain));
      const withSecrets = restored(component, storedComponent, COMPONENT_SECRET_FIELDS);
      if (!withSecrets) return component;
      restoredAny = true;
      return withSecrets;
    });
    if (restoredAny) result = { ...result, components: merged };
  }
  return result;
}
