import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations';
import { ENTITIES } from './entities';

/**
 * The one description of the control plane's database, used by the app and by the TypeORM
 * CLI. `synchronize` is never on: the schema changes only through `migrations/`.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Fail fast while PostgreSQL is down so requests get a 503 instead of hanging.
    extra: { connectionTimeoutMillis: 2000, max: 10, idleTimeoutMillis: 30_000 },
  };
}
