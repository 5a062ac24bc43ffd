import { BadRequestException, NotFoundException } from '@nestjs/common';
import { isValidDomainName, normalizeDomain, type MeridianConfigDocument } from '#config';

/** The path parameter naming a datacenter or component: a domain, compared case-insensitively. */
export function domainParam(raw: string, what: string): string {
  const domain = normalizeDomain(raw);
  if (!isValidDomainName(domain))
    throw new BadRequestException(`${what} "${raw}" is not a valid domain name`);
  return domain;
}

export function requireDocument(current: MeridianConfigDocument | null): MeridianConfigDocument {
  // RevisionService refuses writes before the first revision; this only narrows the type.
  if (!current) throw new Error('no current configuration');
  return structuredClone(current);
}

/** Replaces or appends the item whose key matches; tells whether it was new. */
export function upsertBy<T>(items: T[], matches: (item: T) => boolean, item: T): boolean {
  const index = items.findIndex(matches);
  if (index === -1) {
    items.push(item);
    return true;
  }
  items[index] = item;
  return false;
}

export function removeBy<T>(items: T[], matches: (item: T) => boolean, notFound: string): T[] {
  const kept = items.filter((item) => !matches(item));
  if (kept.length === items.length) throw new NotFoundException(notFound);
  return kept;
}

/** Class instances from the ValidationPipe, as the plain JSON the config library expects. */
export const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
