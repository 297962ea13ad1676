// Payloads of the events orders publishes on `orders.events`.
//
// Versioning rule: within a version, changes are additive only (a new optional field); consumers ignore fields they
// do not know (schemas strip unknown keys). Anything else (a new required field, a removed or retyped field) is a new
// version registered beside the old one in event-registry.ts, and consumers accept both until no producer writes the
// old one.
import { z } from 'zod';
import { customerIdSchema, orderIdSchema, orderItemsSchema, timestampSchema } from './event-fields';

export const orderPlacedV1Schema = z.object({
  orderId: orderIdSchema,
  customerId: customerIdSchema,
  items: orderItemsSchema,
  placedAt: timestampSchema,
});
export type OrderPlacedV1 = z.infer<typeof orderPlacedV1Schema>;

export const orderConfirmedV1Schema = z.object({
  orderId: orderIdSchema,
  customerId: customerIdSchema,
  /** What was confirmed (added within v1, so optional): recommendations ranks popularity from it. */
  items: orderItemsSchema.optional(),
  confirmedAt: timestampSchema,
});
export type OrderConfirmedV1 = z.infer<typeof orderConfirmedV1Schema>;

export const orderRejectedV1Schema = z.object({
  orderId: orderIdSchema,
  customerId: customerIdSchema,
  /** Why, for people: usually the inventory reason (e.g. 'INSUFFICIENT_STOCK'). */
  reason: z.string().min(1).max(200),
  rejectedAt: timestampSchema,
});
export type OrderRejectedV1 = z.infer<typeof orderRejectedV1Schema>;
