// The cache.* and redis.* options in force in this module. MongooseIM's defaults until the
// first revision is applied, so the session table works before config-sync has run; every
// revision replaces them at once (SessionTable/NodeRegistry.applyConfig).
import { Injectable } from '@nestjs/common';
import {
  RedisPolicyConfig,
  type CacheDocument,
  type MeridianConfigDocument,
  type RedisPolicyDocument,
} from '#config';
import { DEFAULT_CACHE_POLICY } from './mapping-cache';

export const DEFAULT_REDIS_POLICY: Readonly<RedisPolicyDocument> = Object.freeze({
  ...new RedisPolicyConfig(),
});

type PolicyListener = (change: { cache: boolean; redis: boolean }) => void;

@Injectable()
export class SessionTablePolicy {
  private currentCache: Readonly<CacheDocument> = DEFAULT_CACHE_POLICY;
  private currentRedis: Readonly<RedisPolicyDocument> = DEFAULT_REDIS_POLICY;
  private readonly listeners = new Set<PolicyListener>();

  get cache(): Readonly<CacheDocument> {
    return this.currentCache;
  }

  get redis(): Readonly<RedisPolicyDocument> {
    return this.currentRedis;
  }

  /** Takes the revision's cache.* and redis.*; listeners hear only about actual changes. */
  apply(config: Pick<MeridianConfigDocument, 'cache' | 'redis'>): void {
    const cache = !sameValues(this.currentCache, config.cache);
    const redis = !sameValues(this.currentRedis, config.redis);
    if (!cache && !redis) return;
    this.currentCache = Object.freeze({ ...config.cache });
    this.currentRedis = Object.freeze({ ...config.redis });
    for (const listener of this.listeners) listener({ cache, redis });
  }

  onChange(listener: PolicyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function sameValues<T extends object>(a: T, b: T): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof T>;
  return [...keys].every((key) => a[key] === b[key]);
}
