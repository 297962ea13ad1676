// The REST shapes of the products routes: validated input and documented output (the OpenAPI document is generated
// from these same schemas).
import { z } from 'zod';

/**
 * A SKU as the catalogue spells them: `SKU-` and four digits (`SKU-0001`). Deliberately narrow: it bounds the size
 * and charset of everything that reaches inventory, and a path that cannot name a product is a plain 404.
 */
export const SKU_PATTERN = /^SKU-\d{4}$/;
export const skuSchema = z.string().regex(SKU_PATTERN, 'expected a SKU like SKU-0001').describe('e.g. SKU-0001');

/** An opaque page cursor from a previous response's nextCursor. */
export const cursorSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[\x21-\x7E]+$/, 'expected the nextCursor of a previous page')
  .describe('The nextCursor of the previous page; omit for the first page.');

/** Page size, 1..100; absent means the service's default. */
export const limitSchema = z.coerce.number().int().min(1).max(100).describe('Page size, 1..100.');

export const productSchema = z.object({
  sku: z.string(),
  name: z.string(),
  priceCents: z.number().int().describe('Price in cents.'),
  available: z.number().int().min(0).describe('Units that can still be ordered.'),
});
export type ProductBody = z.infer<typeof productSchema>;

export const listProductsQuerySchema = z
  .object({ limit: limitSchema.optional(), cursor: cursorSchema.optional() })
  .strict();

export const listProductsResponseSchema = z.object({
  items: z.array(productSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});

export const skuParamsSchema = z.object({ sku: skuSchema }).strict();

/** The new absolute stock level; a million units bounds a typo without limiting the lab. */
export const setStockBodySchema = z.object({ available: z.number().int().min(0).max(1_000_000) }).strict();
