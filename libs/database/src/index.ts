export { DATA_SOURCE, DatabaseModule, type DatabaseOptions } from './database.module';
export { inTransaction } from './in-transaction';
export { queryRows, type SqlExecutor } from './sql';
export { DEFAULT_GUARD, runGuarded, type GuardOptions } from './guarded-ddl';
export { createScratchDatabase, type ScratchDatabase } from './scratch-database';
