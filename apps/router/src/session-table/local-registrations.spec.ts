import { jid } from '#xmpp';
import { describe, expect, it } from 'vitest';
import { LocalRegistrations } from './local-registrations';

describe('LocalRegistrations', () => {
  it('releases a full JID only when its last registration leaves', () => {
    const local = new LocalRegistrations();
    const phone = jid('alice', 'example.com', 'phone');
    expect(local.addSession(phone)).toBe(true);
    expect(local.addSession(phone)).toBe(false); // a replacing session registered first
    expect(local.removeSession(phone)).toBe(false);
    expect(local.hasSession(phone)).toBe(true);
    expect(local.removeSession(phone)).toBe(true);
    expect(local.hasSession(phone)).toBe(false);
    expect(local.removeSession(phone)).toBe(false);
  });

  it('keeps the bare JID while another resource is on this node', () => {
    const local = new LocalRegistrations();
    local.addSession(jid('alice', 'example.com', 'phone'));
    local.addSession(jid('alice', 'example.com', 'laptop'));
    local.removeSession(jid('alice', 'example.com', 'phone'));
    expect(local.hasBare('alice@example.com')).toBe(true);
    expect(local.bares()).toEqual([
      { bare: 'alice@example.com', sessions: [jid('alice', 'example.com', 'laptop')] },
    ]);
    local.removeSession(jid('alice', 'example.com', 'laptop'));
    expect(local.hasBare('alice@example.com')).toBe(false);
    expect(local.sessionCount).toBe(0);
  });

  it('counts component domains like sessions', () => {
    const local = new LocalRegistrations();
    expect(local.addDomain('muc.example.com')).toBe(true);
    expect(local.addDomain('muc.example.com')).toBe(false);
    expect(local.removeDomain('muc.example.com')).toBe(false);
    expect(local.domainList()).toEqual(['muc.example.com']);
    expect(local.removeDomain('muc.example.com')).toBe(true);
    expect(local.domainCount).toBe(0);
  });

  it('hands out snapshots that later changes do not alter', () => {
    const local = new LocalRegistrations();
    local.addSession(jid('bob', 'example.com', 'r1'));
    const snapshot = local.bares();
    local.addSession(jid('bob', 'example.com', 'r2'));
    expect(snapshot[0].sessions).toHaveLength(1);
  });
});
