// The REST shapes of the orders routes: validated input and documented output (the OpenAPI document is generated
// from these same schemas).
import { z } from 'zod';
import { cursorSchema, limitSchema, skuSchema } from '../products/products.http-schema';

export const orderItemSchema = z
  .object({
    sku: skuSchema,
    quantity: z.number().int().min(1).max(100).describe('1..100 units.'),
  })
  .strict();

/** `POST /v1/orders`: 1..20 items (docs/architecture.md, "Public REST contract"). */
export const placeOrderBodySchema = z.object({ items: z.array(orderItemSchema).min(1).max(20) }).strict();
export type PlaceOrderBody = z.infer<typeof placeOrderBodySchema>;

/** RFC 9110 token-ish: 1..255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;
export const idempotencyKeySchema = z
  .string({ message: 'required: 1..255 visible ASCII characters' })
  .regex(IDEMPOTENCY_KEY_PATTERN, 'expected 1..255 visible ASCII characters')
  .describe(
    'Unique per intended order, chosen by the client; a retry reuses it. Scoped per customer, kept at least 24 h.',
  );
export const placeOrderHeadersSchema = z.object({ 'Idempotency-Key': idempotencyKeySchema });

export const orderStatusSchema = z.enum(['PENDING', 'CONFIRMED', 'REJECTED']);

export const orderSchema = z.object({
  id: z.uuid(),
  customerId: z.string(),
  status: orderStatusSchema,
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int() })),
  createdAt: z.string().describe('RFC 3339, UTC.'),
});
export type OrderBody = z.infer<typeof orderSchema>;

/** An order id is a UUID; anything else names no order (404, like an order of another customer). */
export const orderIdParamsSchema = z.object({ id: z.uuid() }).strict();

export const listOrdersQuerySchema = z
  .object({ limit: limitSchema.optional(), cursor: cursorSchema.optional() })
  .strict();

export const orderSummarySchema = z.object({
  id: z.uuid(),
  customerId: z.string(),
  customerName: z.string(),
  status: orderStatusSchema,
  itemCount: z.number().int(),
  createdAt: z.string().describe('RFC 3339, UTC.'),
});

export const listOrdersResponseSchema = z.object({
  items: z.array(orderSummarySchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});
