// The DataSource the TypeORM CLI uses (`npm run migrate`, `migration:revert`,
// `migration:generate`). It reads the same DATABASE_URL the service does.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { parseControlEnv } from '../env/control-env';
import { dataSourceOptions } from './data-source-options';

export default new DataSource(dataSourceOptions(parseControlEnv(process.env)));
