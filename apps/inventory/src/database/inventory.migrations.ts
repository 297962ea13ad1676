import { CreateInventorySchema1764201700000 } from './migrations/1764201700000-create-inventory-schema';
import { SeedLabCatalog1764201700001 } from './migrations/1764201700001-seed-lab-catalog';

/** The inventory database's migration history, oldest first. */
export const inventoryMigrations = [CreateInventorySchema1764201700000, SeedLabCatalog1764201700001];
