import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations';
import type { ControlEnv } from '../env/control-env';
import { ENTITIES } from './entities';

/**
 * The one description of the control plane's database, used by the app and by the TypeORM
 * CLI. `synchronize` is never on: the schema changes only through `migrations/`.
 */
export function dataSourceOptions(
  env: Pick<ControlEnv, 'databaseUrl' | 'databasePoolWaitMs'>,
): DataSourceOptions {
  return {
    type: 'postgres',
    url: env.databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Bounds the wait for a connection, so a request gets a 503 instead of hanging while
    // PostgreSQL does not answer (a refused connection fails at once). Not short: on a starved
    // CPU a busy pool or a slow handshake would otherwise answer 503 while PostgreSQL is fine.
    extra: {
      connectionTimeoutMillis: env.databasePoolWaitMs,
      max: 10,
      idleTimeoutMillis: 30_000,
    },
  };
}
