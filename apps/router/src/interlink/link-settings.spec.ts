import { describe, expect, it } from 'vitest';
import { defaultConfig } from '#config';
import { defaultLinkSettings, linkSettingsOf, overridesDiffer } from './link-settings';

describe('link settings', () => {
  it('are the config defaults before any revision, in milliseconds', () => {
    expect(defaultLinkSettings()).toEqual({
      connectionsPerEndpoint: 1,
      refreshIntervalMs: 60_000,
      cleanStartRefreshIntervalMs: 3_000,
      gcIntervalMs: 60_000,
      tlsEnabled: true,
      maxStanzaBytes: 65536,
      endpointOverrides: {},
    });
    expect(linkSettingsOf(defaultConfig('example.com'))).toEqual(defaultLinkSettings());
  });

  it('take the options of a revision', () => {
    const config = defaultConfig('example.com');
    config.connections = {
      connectionsPerEndpoint: 4,
      endpointRefreshIntervalS: 10,
      endpointRefreshIntervalCleanStartS: 1,
      disabledGcIntervalS: 30,
      tls: { enabled: false },
    };
    config.limits.maxStanzaBytes = 10_000;
    config.endpointOverrides = { 'dc2.example.com': [{ host: '10.0.0.9', port: 5555 }] };
    expect(linkSettingsOf(config)).toEqual({
      connectionsPerEndpoint: 4,
      refreshIntervalMs: 10_000,
      cleanStartRefreshIntervalMs: 1_000,
      gcIntervalMs: 30_000,
      tlsEnabled: false,
      maxStanzaBytes: 10_000,
      endpointOverrides: { 'dc2.example.com': [{ host: '10.0.0.9', port: 5555 }] },
    });
  });

  it('notice a change of one datacenter overrides only', () => {
    const a = { ...defaultLinkSettings(), endpointOverrides: { dc2: [{ host: 'h', port: 1 }] } };
    const b = { ...a, endpointOverrides: { dc2: [{ host: 'h', port: 2 }] } };
    expect(overridesDiffer(a, b, 'dc2')).toBe(true);
    expect(overridesDiffer(a, b, 'dc3')).toBe(false);
    expect(overridesDiffer(a, { ...a }, 'dc2')).toBe(false);
  });
});
