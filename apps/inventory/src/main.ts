import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { INVENTORY_V1 } from '@faultline/contracts';
import { inventoryConfigSchema } from './inventory.config';
import { InventoryModule } from './inventory.module';

void runService({
  name: 'inventory',
  schema: inventoryConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  grpc: (c) => ({ port: c.GRPC_PORT, services: [INVENTORY_V1] }),
  module: (c, kit) => InventoryModule.forRoot(c, kit),
});
