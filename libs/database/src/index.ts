export { DATA_SOURCE, DatabaseModule, type DatabaseOptions } from './database.module';
export { inTransaction, type Sql } from './in-transaction';
export { DEFAULT_GUARD, runGuarded, type GuardOptions } from './guarded-ddl';
export { createScratchDatabase, type ScratchDatabase } from './scratch-database';
