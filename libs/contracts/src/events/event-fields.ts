// Field schemas shared by several event payloads. The limits match the public REST contract (docs/architecture.md,
// "Public REST contract"), so an event can never carry an order the gateway would have refused.
import { z } from 'zod';

export const MAX_ORDER_ITEMS = 20;
export const MAX_ITEM_QUANTITY = 100;

export const orderIdSchema = z.uuid();
/** The JWT `sub` of the customer. */
export const customerIdSchema = z.string().min(1).max(255);
export const skuSchema = z.string().min(1).max(64);
/** RFC 3339 / ISO 8601 date-time with `Z` or an offset, e.g. '2025-01-31T12:00:00.000Z'. */
export const timestampSchema = z.iso.datetime({ offset: true });

export const orderItemSchema = z.object({
  sku: skuSchema,
  quantity: z.int().min(1).max(MAX_ITEM_QUANTITY),
});
export const orderItemsSchema = z.array(orderItemSchema).min(1).max(MAX_ORDER_ITEMS);
export type EventOrderItem = z.infer<typeof orderItemSchema>;
