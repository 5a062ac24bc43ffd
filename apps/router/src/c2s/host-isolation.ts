// Host types with `isolated: true` exchange no stanzas with domains of other host types
// (ARCHITECTURE §2). The global host belongs to the default host type; a domain that is
// neither the global host nor a dynamic domain (a component, a foreign server) belongs to
// none, so an isolated domain cannot reach it either. Pure.
import { DEFAULT_HOST_TYPE } from '#config';
import type { RouterSnapshot } from '../config-sync';

export function hostTypeOf(domain: string, snapshot: RouterSnapshot): string | null {
  if (domain === snapshot.config.globalHost) return DEFAULT_HOST_TYPE;
  return snapshot.domains.get(domain)?.hostType ?? null;
}

function isIsolated(hostType: string | null, snapshot: RouterSnapshot): boolean {
  if (hostType === null) return false;
  return snapshot.config.hostTypes.some((h) => h.name === hostType && h.isolated);
}

/** True when a stanza between these two domains must be refused with service-unavailable. */
export function isolationForbids(
  fromDomain: string,
  toDomain: string,
  snapshot: RouterSnapshot,
): boolean {
  if (fromDomain === toDomain) return false;
  const from = hostTypeOf(fromDomain, snapshot);
  const to = hostTypeOf(toDomain, snapshot);
  if (from === to) return false;
  return isIsolated(from, snapshot) || isIsolated(to, snapshot);
}
