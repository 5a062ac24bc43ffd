import { describe, expect, it } from 'vitest';
import { ago, readableConfig, renderChanges, table } from './output';

describe('output', () => {
  it('renders changes one per line', () => {
    expect(
      renderChanges([
        { op: 'change', path: 'bounce.maxRetries', before: 4, after: 6 },
        {
          op: 'add',
          path: 'datacenters["dc3.example.com"]',
          after: { localHost: 'dc3.example.com' },
        },
        { op: 'remove', path: 'messageTtl', before: 5 },
      ]),
    ).toBe(
      '~ bounce.maxRetries: 4 -> 6\n' +
        '+ datacenters["dc3.example.com"]: {"localHost":"dc3.example.com"}\n' +
        '- messageTtl: 5\n',
    );
    expect(renderChanges([])).toBe('');
  });

  it('aligns table columns and leaves no trailing spaces', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xxx', 'y'],
          ['z', ''],
        ],
      ),
    ).toBe('A    LONGER\nxxx  y\nz\n');
  });

  it('orders the configuration for people: main options first, names first in items', () => {
    const ordered = readableConfig({
      limits: {},
      datacenters: [{ region: 'r', localHost: 'dc1' }],
      auth: {},
      globalHost: 'example.com',
      zeta: 1,
    });
    expect(Object.keys(ordered as object)).toEqual([
      'globalHost',
      'datacenters',
      'auth',
      'limits',
      'zeta',
    ]);
    expect(Object.keys((ordered as { datacenters: object[] }).datacenters[0]!)).toEqual([
      'localHost',
      'region',
    ]);
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(ago('2026-01-01T11:59:57Z', now)).toBe('3s ago');
    expect(ago('2026-01-01T11:50:00Z', now)).toBe('10m ago');
    expect(ago('2026-01-01T06:00:00Z', now)).toBe('6h ago');
  });
});
