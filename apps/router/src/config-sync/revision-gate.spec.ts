import type { PublishedRevision } from '#redis-keys';
import { describe, expect, it } from 'vitest';
import {
  dynamicDomainsNamedIn,
  parsePublishedRevision,
  RevisionGate,
  summarizeErrors,
  type DomainView,
} from './revision-gate';

const LOCAL = 'dc1.example.com';
const base = { globalHost: 'example.com', datacenters: [{ localHost: LOCAL }] };
const published = (revision: number, config: unknown = base): PublishedRevision => ({
  revision,
  hash: `h${revision}`,
  createdAt: '2024-01-01T00:00:00.000Z',
  config,
});
const domains = (seq: number, names: string[] = []): DomainView => ({
  seq,
  has: (name) => names.includes(name),
});
const noDomains = domains(0);

describe('parsePublishedRevision', () => {
  it('reads what control writes', () => {
    expect(parsePublishedRevision(JSON.stringify(published(3)))).toEqual(published(3));
  });

  it.each([
    ['nope', 'not JSON'],
    ['[]', '"revision" is not a positive whole number'],
    ['"x"', 'not a JSON object'],
    ['{"revision":0,"config":{}}', '"revision" is not a positive whole number'],
    ['{"revision":"4","config":{}}', '"revision" is not a positive whole number'],
  ])('refuses %s', (raw, error) => {
    expect(parsePublishedRevision(raw)).toEqual({ error });
  });
});

describe('RevisionGate', () => {
  it('applies a valid revision that lists this datacenter, with the canonical document', () => {
    const gate = new RevisionGate(LOCAL);
    const verdict = gate.judge(published(1), noDomains);
    expect(verdict).toMatchObject({ kind: 'apply', revision: 1, hash: 'h1' });
    expect(verdict.kind === 'apply' && verdict.config.messageTtl).toBe(4);
    expect(gate.applied).toBe(1);
  });

  it('never goes backwards', () => {
    const gate = new RevisionGate(LOCAL);
    gate.judge(published(5), noDomains);
    expect(gate.judge(published(5), noDomains)).toEqual({ kind: 'ignore' });
    expect(gate.judge(published(3), noDomains)).toEqual({ kind: 'ignore' });
    expect(gate.judge(published(7), noDomains).kind).toBe('apply');
    expect(gate.applied).toBe(7);
  });

  it('refuses an invalid revision with every error, then applies the next good one', () => {
    const gate = new RevisionGate(LOCAL);
    gate.judge(published(1), noDomains);
    const bad = published(2, { ...base, messageTtl: -1, connections: { tls: 'yes' } });
    const verdict = gate.judge(bad, noDomains);
    expect(verdict).toMatchObject({
      kind: 'refuse',
      revision: 2,
      again: false,
      localHostMissing: false,
    });
    expect(verdict.kind === 'refuse' && verdict.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['messageTtl', 'connections.tls']),
    );
    expect(verdict.kind === 'refuse' && verdict.error).toMatch(/^revision 2 refused: .+ more\)$/);
    expect(gate.applied).toBe(1);
    expect(gate.refusedRevision).toBe(2);
    expect(gate.judge(published(3), noDomains).kind).toBe('apply');
    expect(gate.refusedRevision).toBeNull();
  });

  it('judges a refused revision once, not on every poll', () => {
    const gate = new RevisionGate(LOCAL);
    const bad = published(4, { ...base, messageTtl: 'x' });
    expect(gate.judge(bad, noDomains).kind).toBe('refuse');
    expect(gate.judge(bad, noDomains)).toEqual({ kind: 'ignore' });
    // An older revision seen after it (a late notice) is not applied over the refusal.
    expect(gate.judge(published(3), noDomains)).toEqual({ kind: 'ignore' });
  });

  it('refuses a revision that no longer lists this datacenter', () => {
    const gate = new RevisionGate(LOCAL);
    gate.judge(published(1), noDomains);
    const verdict = gate.judge(
      published(2, { globalHost: 'example.com', datacenters: [{ localHost: 'dc2.example.com' }] }),
      noDomains,
    );
    expect(verdict).toMatchObject({
      kind: 'refuse',
      localHostMissing: true,
      errors: [{ path: 'datacenters', message: expect.stringContaining(LOCAL) }],
    });
  });

  it('validates components against the dynamic domains it knows, and retries when they move', () => {
    const gate = new RevisionGate(LOCAL);
    const config = { ...base, components: [{ domain: 'muc.tenant.net', secret: 's'.repeat(24) }] };
    const first = gate.judge(published(1, config), domains(10));
    expect(first).toMatchObject({
      kind: 'refuse',
      errors: [{ path: 'components[0].domain' }],
      again: false,
    });
    // Same domain seq: not judged again.
    expect(gate.judge(published(1, config), domains(10))).toEqual({ kind: 'ignore' });
    // The domain arrived after the revision: judged again and applied.
    expect(gate.judge(published(1, config), domains(11, ['tenant.net'])).kind).toBe('apply');
  });

  it('says when a refusal repeats after the domain set moved', () => {
    const gate = new RevisionGate(LOCAL);
    const bad = published(1, { ...base, messageTtl: 'x' });
    gate.judge(bad, domains(1));
    expect(gate.judge(bad, domains(2))).toMatchObject({ kind: 'refuse', again: true });
  });
});

describe('dynamicDomainsNamedIn', () => {
  it('keeps datacenter names and component parents that are dynamic domains', () => {
    const doc = {
      datacenters: [{ localHost: 'DC9.tenant.net' }, { localHost: 7 }],
      components: [{ domain: 'a.b.tenant.net' }, null],
    };
    const known = domains(1, ['dc9.tenant.net', 'b.tenant.net', 'other.net']);
    expect(dynamicDomainsNamedIn(doc, known).sort()).toEqual(['b.tenant.net', 'dc9.tenant.net']);
    expect(dynamicDomainsNamedIn('junk', known)).toEqual([]);
  });
});

describe('summarizeErrors', () => {
  it('names the first error and counts the rest', () => {
    expect(summarizeErrors(3, [{ path: '', message: 'must be an object' }])).toBe(
      'revision 3 refused: (document): must be an object',
    );
  });
});
