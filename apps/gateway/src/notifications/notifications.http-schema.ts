// The REST shapes of the notifications route (the OpenAPI document is generated from these same schemas).
import { z } from 'zod';
import { limitSchema } from '../products/products.http-schema';

export const listNotificationsQuerySchema = z.object({ limit: limitSchema.optional() }).strict();

export const notificationSchema = z.object({
  id: z.uuid(),
  orderId: z.uuid(),
  kind: z.enum(['ORDER_CONFIRMED', 'ORDER_REJECTED']),
  createdAt: z.string().describe('RFC 3339, UTC.'),
});

/** A bare array, newest first (the public contract: apps/gateway/README.md). */
export const listNotificationsResponseSchema = z.array(notificationSchema);
