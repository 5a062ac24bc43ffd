// The part of a configuration revision the links use, in the units the code wants. Defaults
// come from the config classes themselves, so the links before the first revision behave as a
// revision with every default would.
import {
  ConnectionsConfig,
  LimitsConfig,
  type EndpointDocument,
  type MeridianConfigDocument,
} from '#config';

export interface LinkSettings {
  readonly connectionsPerEndpoint: number;
  readonly refreshIntervalMs: number;
  readonly cleanStartRefreshIntervalMs: number;
  readonly gcIntervalMs: number;
  readonly tlsEnabled: boolean;
  readonly maxStanzaBytes: number;
  /** What to dial for a datacenter instead of its endpoints in Redis. */
  readonly endpointOverrides: Readonly<Record<string, readonly EndpointDocument[]>>;
}

export function linkSettingsOf(config: MeridianConfigDocument): LinkSettings {
  const { connections } = config;
  return {
    connectionsPerEndpoint: connections.connectionsPerEndpoint,
    refreshIntervalMs: connections.endpointRefreshIntervalS * 1000,
    cleanStartRefreshIntervalMs: connections.endpointRefreshIntervalCleanStartS * 1000,
    gcIntervalMs: connections.disabledGcIntervalS * 1000,
    tlsEnabled: connections.tls.enabled,
    maxStanzaBytes: config.limits.maxStanzaBytes,
    endpointOverrides: structuredClone(config.endpointOverrides),
  };
}

export function defaultLinkSettings(): LinkSettings {
  const connections = new ConnectionsConfig();
  return {
    connectionsPerEndpoint: connections.connectionsPerEndpoint,
    refreshIntervalMs: connections.endpointRefreshIntervalS * 1000,
    cleanStartRefreshIntervalMs: connections.endpointRefreshIntervalCleanStartS * 1000,
    gcIntervalMs: connections.disabledGcIntervalS * 1000,
    tlsEnabled: connections.tls.enabled,
    maxStanzaBytes: new LimitsConfig().maxStanzaBytes,
    endpointOverrides: {},
  };
}

/** Whether the overrides of a datacenter differ (order counts: it is what operators wrote). */
export function overridesDiffer(a: LinkSettings, b: LinkSettings, localHost: string): boolean {
  return (
    JSON.stringify(a.endpointOverrides[localHost] ?? []) !==
    JSON.stringify(b.endpointOverrides[localHost] ?? [])
  );
}
