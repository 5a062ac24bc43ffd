// docs/configuration.md states every option's type, default and range; these tests
// keep it saying what the classes do.
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuthConfig,
  BounceConfig,
  CacheConfig,
  ComponentConfig,
  ConnectionsConfig,
  DatacenterConfig,
  EndpointConfig,
  HostTypeConfig,
  JwtConfig,
  LimitsConfig,
  LinkTlsConfig,
  MeridianConfig,
  RedisPolicyConfig,
} from './config-classes';
import { integerRangesOf } from './decorators';
import { defaultConfig, validateConfig } from './validate-config';

const doc = readFileSync(join(__dirname, '../../../docs/configuration.md'), 'utf8');

interface Row {
  type: string;
  defaultCell: string;
  allowed: string;
}

const rows = new Map<string, Row>();
for (const line of doc.split('\n')) {
  const cells = line.split('|').map((cell) => cell.trim());
  // A table row: | `option` | type | default | allowed | meaning |
  if (cells.length < 6 || !/^`[a-zA-Z][^` ]*`$/.test(cells[1])) continue;
  rows.set(cells[1].slice(1, -1), { type: cells[2], defaultCell: cells[3], allowed: cells[4] });
}

type OptionClass = abstract new () => object;
const SECTIONS: [string, OptionClass][] = [
  ['', MeridianConfig],
  ['connections', ConnectionsConfig],
  ['connections.tls', LinkTlsConfig],
  ['cache', CacheConfig],
  ['bounce', BounceConfig],
  ['redis', RedisPolicyConfig],
  ['auth', AuthConfig],
  ['auth.jwt', JwtConfig],
  ['limits', LimitsConfig],
  ['datacenters[]', DatacenterConfig],
  ['hostTypes[]', HostTypeConfig],
  ['components[]', ComponentConfig],
  ['endpointOverrides.*[]', EndpointConfig],
];

const optionPath = (prefix: string, key: string) => (prefix === '' ? key : `${prefix}.${key}`);

function optionsOf(cls: OptionClass): string[] {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

const allOptions = SECTIONS.flatMap(([prefix, cls]) =>
  optionsOf(cls).map((key) => optionPath(prefix, key)),
);
const sectionPaths = new Set(SECTIONS.map(([prefix]) => prefix));

describe('docs/configuration.md', () => {
  it('has a row for every option', () => {
    expect(allOptions.length).toBeGreaterThan(50);
    const missing = allOptions.filter((path) => !rows.has(path) && !sectionPaths.has(path));
    expect(missing).toEqual([]);
  });

  it('has no row for an option that does not exist', () => {
    const known = new Set([...allOptions, 'endpointOverrides.*']);
    expect([...rows.keys()].filter((path) => !known.has(path))).toEqual([]);
  });

  it('states the range of every integer option', () => {
    for (const [prefix, cls] of SECTIONS) {
      for (const [key, { min, max }] of integerRangesOf(cls)) {
        const row = rows.get(optionPath(prefix, key));
        expect(row?.type, optionPath(prefix, key)).toBe('integer');
        expect(row?.allowed, optionPath(prefix, key)).toMatch(
          new RegExp(`^\`${min}\\.\\.${max}\``),
        );
      }
    }
  });

  it('states the default of every top-level and section option', () => {
    const defaults = defaultConfig('example.com');
    for (const [path, row] of rows) {
      if (path.includes('[]') || path.includes('*') || !row.defaultCell.startsWith('`')) continue;
      const value: unknown = JSON.parse(row.defaultCell.slice(1, -1));
      const input: Record<string, unknown> = { globalHost: 'example.com' };
      const keys = path.split('.');
      let cursor = input;
      for (const key of keys.slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
      cursor[keys[keys.length - 1]] = value;
      const result = validateConfig(input);
      expect(result, path).toEqual({ ok: true, config: defaults });
    }
  });

  it('marks options without a default as required or absent', () => {
    for (const path of [
      'globalHost',
      'datacenters[].localHost',
      'components[].domain',
      'components[].secret',
    ]) {
      expect(rows.get(path)?.defaultCell, path).toBe('required');
    }
    for (const path of [
      'auth.jwt.secret',
      'auth.jwt.previousSecret',
      'auth.jwt.publicKey',
      'auth.jwt.previousPublicKey',
      'components[].previousSecret',
      'datacenters[].region',
      'hostTypes[].bounce',
    ]) {
      expect(rows.get(path)?.defaultCell, path).toBe('—');
    }
  });

  it('shows the complete default document', () => {
    const block = /```json\n(\{\n {2}"globalHost"[\s\S]*?)\n```/.exec(doc);
    expect(JSON.parse(block![1])).toEqual(defaultConfig('example.com'));
  });
});
