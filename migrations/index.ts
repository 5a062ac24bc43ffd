// Every migration, oldest first. Listed explicitly (not globbed) so the service, the TypeORM
// CLI and the tests all run the same set from source or from dist. Add new ones here.
import { InitialSchema1795327872374 } from './1795327872374-initial-schema';

export const MIGRATIONS = [InitialSchema1795327872374];
