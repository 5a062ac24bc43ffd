import { describe, expect, it } from 'vitest';
import { redisEndpoint } from './redis-connection';

describe('redisEndpoint', () => {
  it('shows host, port and database without credentials', () => {
    expect(redisEndpoint('redis://user:hunter2@redis.internal:6380/4')).toBe(
      'redis.internal:6380/4',
    );
  });

  it('fills in the default port and database', () => {
    expect(redisEndpoint('rediss://redis.internal')).toBe('redis.internal:6379/0');
  });
});
