import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
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
    // Compiled migrations sit in dist/migrations; this file is dist/apps/control/src/persistence.
    migrations: [join(__dirname, '..', '..', '..', '..', 'migrations', '*.js')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Fail fast while PostgreSQL is down so requests get a 503 instead of hanging.
    extra: { connectionTimeoutMillis: 2000, max: 10, idleTimeoutMillis: 30_000 },
  };
}
