import { describe, expect, it } from 'vitest';
import { isValidDomainName, normalizeDomain, parentDomains } from './domain-names';

describe('isValidDomainName', () => {
  it.each([
    'example.com',
    'localhost',
    'dc1.example.com',
    'a-b.c-d.example',
    'xn--bcher-kva.example',
    'Example.COM',
    '1.example.com',
    'a'.repeat(63) + '.com',
    [...Array(4)].map(() => 'a'.repeat(62)).join('.'), // 251 characters
  ])('accepts %s', (name) => {
    expect(isValidDomainName(name)).toBe(true);
  });

  it.each([
    '',
    ' example.com',
    'example.com ',
    'example.com.',
    '.example.com',
    'exa mple.com',
    'exa_mple.com',
    '-example.com',
    'example-.com',
    'example..com',
    'a'.repeat(64) + '.com',
    [...Array(4)].map(() => 'a'.repeat(63)).join('.') + '.a', // 257 characters
    '127.0.0.1',
    '123',
    'bücher.example',
    'user@example.com',
  ])('refuses %j', (name) => {
    expect(isValidDomainName(name)).toBe(false);
  });

  it('refuses non-strings without throwing', () => {
    expect(isValidDomainName(42 as unknown as string)).toBe(false);
    expect(isValidDomainName(undefined as unknown as string)).toBe(false);
  });
});

describe('normalizeDomain', () => {
  it('trims, lower-cases and drops one trailing dot', () => {
    expect(normalizeDomain('  Example.COM. ')).toBe('example.com');
    expect(normalizeDomain('dc1.example.com')).toBe('dc1.example.com');
  });

  it('does not validate', () => {
    expect(normalizeDomain(' Not A Domain ')).toBe('not a domain');
  });
});

describe('parentDomains', () => {
  it('lists the parents nearest first', () => {
    expect(parentDomains('a.b.example.com')).toEqual(['b.example.com', 'example.com', 'com']);
    expect(parentDomains('localhost')).toEqual([]);
  });
});
