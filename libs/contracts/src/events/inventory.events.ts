// Payloads of the events inventory publishes on `inventory.events`, in answer to OrderPlaced. Keyed by order id like
// the orders events, so the saga for one order is ordered end to end. Versioning rule: see orders.events.ts.
import { z } from 'zod';
import { orderIdSchema, orderItemsSchema, skuSchema, timestampSchema } from './event-fields';

export const inventoryReservedV1Schema = z.object({
  orderId: orderIdSchema,
  /** Every item of the order: a reservation is all or nothing. */
  items: orderItemsSchema,
  reservedAt: timestampSchema,
});
export type InventoryReservedV1 = z.infer<typeof inventoryReservedV1Schema>;

export const INVENTORY_REJECTION_REASONS = Object.freeze(['INSUFFICIENT_STOCK', 'UNKNOWN_SKU'] as const);
export type InventoryRejectionReason = (typeof INVENTORY_REJECTION_REASONS)[number];

export const inventoryRejectedV1Schema = z.object({
  orderId: orderIdSchema,
  reason: z.enum(INVENTORY_REJECTION_REASONS),
  /** The SKUs that caused the rejection, when known. Nothing of the order was reserved. */
  skus: z.array(skuSchema).min(1).max(20).optional(),
  rejectedAt: timestampSchema,
});
export type InventoryRejectedV1 = z.infer<typeof inventoryRejectedV1Schema>;
