export { DATA_SOURCE, DatabaseModule, type DatabaseOptions } from './database.module';
export { inTransaction, type Sql } from './in-transaction';
