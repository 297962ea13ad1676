import { CreateOrdersSchema1764201600000 } from './migrations/1764201600000-create-orders-schema';
import { SeedLabCustomers1764201600001 } from './migrations/1764201600001-seed-lab-customers';

/** The orders database's migration history, oldest first. */
export const ordersMigrations = [CreateOrdersSchema1764201600000, SeedLabCustomers1764201600001];
