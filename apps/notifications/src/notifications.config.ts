import { z } from 'zod';
import { env } from '@faultline/config';

export const notificationsConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  HTTP_PORT: env.port().default(9404),
  GRPC_PORT: env.port().default(50054),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
});
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
