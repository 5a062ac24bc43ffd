import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseControlEnv } from '../../apps/control/src/env/control-env';
import { dataSourceOptions } from '../../apps/control/src/persistence/data-source-options';
import { createTestDatabase, type TestDatabase } from '../support/database';

let database: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase('migrations');
  dataSource = new DataSource(dataSourceOptions(parseControlEnv({ DATABASE_URL: database.url })));
  await dataSource.initialize();
});
afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const tables = async () =>
  (
    await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    )
  ).map((row: { table_name: string }) => row.table_name);

describe('migrations', () => {
  it('build the schema on an empty database, with the domain counter seeded', async () => {
    expect(await tables()).toEqual([]);
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(['InitialSchema1795327872374']);
    expect(await tables()).toEqual([
      'domain_events',
      'domain_sequence',
      'domains',
      'migrations',
      'revisions',
    ]);
    expect(
      await dataSource.query(
        'SELECT id, seq::int AS seq, pushed_seq::int AS "pushedSeq" FROM domain_sequence',
      ),
    ).toEqual([{ id: 1, seq: 0, pushedSeq: 0 }]);
  });

  it('match the entities exactly (nothing left to generate)', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('revert to an empty schema and apply again', async () => {
    await dataSource.undoLastMigration();
    expect(await tables()).toEqual(['migrations']);
    await dataSource.runMigrations();
    expect(await tables()).toContain('revisions');
  });
});

describe('npm run migrate / migration:revert (the TypeORM CLI on the built DataSource)', () => {
  it('applies and reverts through the CLI', async () => {
    const { execFile } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const dataSourceFile = 'dist/apps/control/src/persistence/data-source.js';
    expect(existsSync(dataSourceFile), 'run `npm run build` before the tests').toBe(true);
    const cliDatabase = await createTestDatabase('migrations_cli');
    const run = (script: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'npm',
          ['run', '--silent', script],
          { env: { ...process.env, DATABASE_URL: cliDatabase.url } },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${stdout}\n${stderr}`)) : resolve(stdout),
        ),
      );
    try {
      expect(await run('migrate')).toMatch(
        /InitialSchema1795327872374 has been executed successfully/,
      );
      expect(await run('migration:revert')).toMatch(
        /InitialSchema1795327872374 has been reverted successfully/,
      );
    } finally {
      await cliDatabase.drop();
    }
  });
});
