import { CreateOrdersSchema1764201600000 } from './migrations/1764201600000-create-orders-schema';
import { SeedLabCustomers1764201600001 } from './migrations/1764201600001-seed-lab-customers';
import { CreateSchemaRelease1764201600002 } from './migrations/1764201600002-create-schema-release';

/**
 * The orders database's migration history, oldest first, applied by the service at start. The steps of the online
 * migration (src/online-migration/line-count.migrations.ts) are NOT here: they are applied one at a time, under
 * load, by `lab migrate`.
 */
export const ordersMigrations = [
  CreateOrdersSchema1764201600000,
  SeedLabCustomers1764201600001,
  CreateSchemaRelease1764201600002,
];
