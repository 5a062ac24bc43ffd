import { describe, expect, it } from 'vitest';
import { decideRoute, type RouteFacts } from './route-decision';

const base: RouteFacts = {
  localHost: 'dc1.example.com',
  selfNode: 'n1',
  toDomainOnly: false,
  toServedDomain: true,
  localSessions: 0,
  location: null,
  nodes: [],
  ttl: 4,
};
const decide = (facts: Partial<RouteFacts>) => decideRoute({ ...base, ...facts });

describe('decideRoute', () => {
  it('delivers to a session on this node first, whatever the table says', () => {
    expect(decide({ localSessions: 1, location: 'dc2.example.com' })).toEqual({ kind: 'local' });
    expect(decide({ localSessions: 2, ttl: 0 })).toEqual({ kind: 'local' });
  });

  it('hands stanzas addressed to a served domain to the local server', () => {
    expect(decide({ toDomainOnly: true })).toEqual({ kind: 'server' });
  });

  it('routes a component domain like a user: by its mapping', () => {
    expect(
      decide({ toDomainOnly: true, toServedDomain: false, location: 'dc2.example.com' }),
    ).toEqual({
      kind: 'datacenter',
      localHost: 'dc2.example.com',
      ttl: 3,
    });
  });

  it('bounces when the recipient is unknown', () => {
    expect(decide({})).toEqual({ kind: 'bounce' });
    expect(decide({ toDomainOnly: true, toServedDomain: false })).toEqual({ kind: 'bounce' });
  });

  it('forwards to the node of this datacenter holding the session, never to itself', () => {
    expect(decide({ location: 'dc1.example.com', nodes: ['n2'] })).toEqual({
      kind: 'node',
      node: 'n2',
    });
    expect(decide({ location: 'dc1.example.com', nodes: ['n1', 'n3'] })).toEqual({
      kind: 'node',
      node: 'n3',
    });
    expect(decide({ location: 'dc1.example.com', nodes: ['n1'] })).toEqual({ kind: 'bounce' });
    expect(decide({ location: 'dc1.example.com', nodes: [] })).toEqual({ kind: 'bounce' });
  });

  it('forwards to another datacenter with the TTL decremented', () => {
    expect(decide({ location: 'dc2.example.com', ttl: 4 })).toEqual({
      kind: 'datacenter',
      localHost: 'dc2.example.com',
      ttl: 3,
    });
    expect(decide({ location: 'dc2.example.com', ttl: 1 })).toEqual({
      kind: 'datacenter',
      localHost: 'dc2.example.com',
      ttl: 0,
    });
  });

  it('stops at TTL 0 instead of forwarding again', () => {
    expect(decide({ location: 'dc2.example.com', ttl: 0 })).toEqual({
      kind: 'ttl-zero',
      deliverable: false,
    });
  });
});
