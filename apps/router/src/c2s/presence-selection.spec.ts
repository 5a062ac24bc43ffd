import { Element, parse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { priorityOf, selectBareRecipients, type PresenceState } from './presence-selection';

const message = (type?: string) => new Element('message', { type });
const on = (priority: number): PresenceState => ({ available: true, priority });
const off: PresenceState = { available: false, priority: 0 };

describe('selectBareRecipients (RFC 6121 §8.5.2)', () => {
  const resources = ['a', 'b', 'c', 'd'];

  it('sends a message to the highest non-negative priority, all of them on a tie', () => {
    expect(selectBareRecipients(resources, [on(1), on(5), on(5), off], message('chat'))).toEqual([
      'b',
      'c',
    ]);
    expect(selectBareRecipients(resources, [on(0), on(-1), off, off], message())).toEqual(['a']);
    expect(selectBareRecipients(resources, [on(0), on(0), off, off], message('headline'))).toEqual([
      'a',
      'b',
    ]);
  });

  it('sends no message to negative priorities or unavailable resources', () => {
    expect(selectBareRecipients(resources, [on(-1), off, off, on(-5)], message('chat'))).toEqual(
      [],
    );
    expect(selectBareRecipients(resources, [off, off, off, off], message('chat'))).toEqual([]);
  });

  it('drops groupchat and error messages to a bare JID', () => {
    expect(
      selectBareRecipients(resources, [on(1), on(1), on(1), on(1)], message('groupchat')),
    ).toEqual([]);
    expect(selectBareRecipients(resources, [on(1), on(1), on(1), on(1)], message('error'))).toEqual(
      [],
    );
  });

  it('sends presence to every available resource, whatever its priority', () => {
    expect(
      selectBareRecipients(resources, [on(-3), off, on(2), on(0)], new Element('presence')),
    ).toEqual(['a', 'c', 'd']);
  });

  it('always includes sessions that are not client streams', () => {
    expect(selectBareRecipients(['x', 'a'], [null, off], message('chat'))).toEqual(['x']);
    expect(selectBareRecipients(['x', 'a'], [null, on(0)], message('chat'))).toEqual(['x', 'a']);
    expect(selectBareRecipients(['x'], [null], new Element('iq'))).toEqual(['x']);
  });
});

describe('priorityOf', () => {
  it('reads and clamps <priority/>', () => {
    expect(priorityOf(parse('<presence><priority>5</priority></presence>'))).toBe(5);
    expect(priorityOf(parse('<presence><priority> -3 </priority></presence>'))).toBe(-3);
    expect(priorityOf(parse('<presence><priority>500</priority></presence>'))).toBe(127);
    expect(priorityOf(parse('<presence><priority>x</priority></presence>'))).toBe(0);
    expect(priorityOf(parse('<presence/>'))).toBe(0);
  });
});
