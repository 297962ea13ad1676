import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { ORDERS_V1 } from '@faultline/contracts';
import { ordersConfigSchema } from './orders.config';
import { OrdersModule } from './orders.module';

void runService({
  name: 'orders',
  schema: ordersConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  grpc: (c) => ({ port: c.GRPC_PORT, services: [ORDERS_V1] }),
  module: (c, kit) => OrdersModule.forRoot(c, kit),
});
