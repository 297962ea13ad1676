import { existsSync } from 'node:fs';
import { z } from 'zod';
import { env } from '@faultline/config';

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: env.logLevel().default('info'),
  /** The public REST port (the lab maps LAB_GATEWAY_PORT to it). */
  HTTP_PORT: env.port().default(8080),
  REDIS_URL: env.url('redis'),
  ORDERS_GRPC_ADDRESS: env.hostPort(),
  INVENTORY_GRPC_ADDRESS: env.hostPort(),
  RECOMMENDATIONS_GRPC_ADDRESS: env.hostPort(),
  NOTIFICATIONS_GRPC_ADDRESS: env.hostPort(),
  /** PEM public key that access tokens are verified with (RS256); the lab generates the pair under .lab/secrets. */
  JWT_PUBLIC_KEY_FILE: z.string().refine((file) => existsSync(file), 'no such file'),
  JWT_ISSUER: z.string().min(1).default('faultline-lab'),
  JWT_AUDIENCE: z.string().min(1).default('faultline-api'),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
