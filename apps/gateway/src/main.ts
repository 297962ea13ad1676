import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { gatewayConfigSchema } from './gateway.config';
import { GatewayModule } from './gateway.module';

void runService({
  name: 'gateway',
  schema: gatewayConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  module: (c, kit) => GatewayModule.forRoot(c, kit),
});
