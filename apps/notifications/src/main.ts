import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { NOTIFICATIONS_V1 } from '@faultline/contracts';
import { notificationsConfigSchema } from './notifications.config';
import { NotificationsModule } from './notifications.module';

void runService({
  name: 'notifications',
  schema: notificationsConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  grpc: (c) => ({ port: c.GRPC_PORT, services: [NOTIFICATIONS_V1] }),
  module: (c, kit) => NotificationsModule.forRoot(c, kit),
});
