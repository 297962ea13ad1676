// The REST shapes of GET /v1/recommendations (the OpenAPI document is generated from these same schemas).
import { z } from 'zod';

export const DEFAULT_RECOMMENDATIONS_LIMIT = 5;
export const MAX_RECOMMENDATIONS_LIMIT = 20;

export const recommendationsQuerySchema = z
  .object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_RECOMMENDATIONS_LIMIT)
      .optional()
      .describe('How many, 1..20 (default 5).'),
  })
  .strict();

export const recommendationSchema = z.object({
  sku: z.string(),
  score: z.number().describe('Higher is more popular; only the order between scores is meaningful.'),
});

export const recommendationsResponseSchema = z.object({
  items: z.array(recommendationSchema),
  source: z
    .enum(['live', 'fallback'])
    .describe('live: from the recommendations service; fallback: it was slow or down, this is a default.'),
});
export type RecommendationsBody = z.infer<typeof recommendationsResponseSchema>;
