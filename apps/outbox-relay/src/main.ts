import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { outboxRelayConfigSchema } from './outbox-relay.config';
import { OutboxRelayModule } from './outbox-relay.module';

void runService({
  name: 'outbox-relay',
  schema: outboxRelayConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  module: (c, kit) => OutboxRelayModule.forRoot(c, kit),
});
