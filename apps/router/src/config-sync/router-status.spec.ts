import { defaultConfig } from '#config';
import type { RouterStatusRecord } from '#redis-keys';
import { describe, expect, it } from 'vitest';
import type { RouterEnv } from '../env/router-env';
import type { RedisConnection } from '../redis/redis-connection';
import { DomainMap } from './domain-map';
import { RouterConfig } from './router-config';
import { RouterStatus } from './router-status';

function statusWith(config = new RouterConfig()) {
  const env = { localHost: 'dc1.example.com', node: 'n1' } as RouterEnv;
  // record() never touches Redis; a connection that is never ready keeps writes off.
  const redis = { isReady: false } as RedisConnection;
  return new RouterStatus(env, redis, config);
}

describe('RouterStatus.record', () => {
  it('reports revision 0 and ack before anything is applied', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(statusWith().record(now)).toEqual<RouterStatusRecord>({
      node: 'n1',
      localHost: 'dc1.example.com',
      revision: 0,
      domainSeq: 0,
      status: 'ack',
      startedAt: expect.any(String),
      heartbeatAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it('reports the revision and domain seq in force, the refusal and the session count', () => {
    const config = new RouterConfig();
    config.installDomains(12, DomainMap.EMPTY);
    config.installRevision({ revision: 4, hash: 'h', config: defaultConfig('example.com') });
    const status = statusWith(config);
    status.setSessionCount(3);
    status.nack(5, 'revision 5 refused: messageTtl: bad', [{ path: 'messageTtl', message: 'bad' }]);
    expect(status.record()).toMatchObject({
      revision: 4,
      domainSeq: 12,
      status: 'nack',
      rejectedRevision: 5,
      error: 'revision 5 refused: messageTtl: bad',
      errors: [{ path: 'messageTtl', message: 'bad' }],
      sessions: 3,
    });
    status.ack();
    const acked = status.record();
    expect(acked.status).toBe('ack');
    expect(Object.keys(acked)).not.toContain('rejectedRevision');
    expect(Object.keys(acked)).not.toContain('errors');
  });
});
