import { z } from 'zod';

/** The one algorithm the lab signs and accepts: asymmetric, so services that verify never hold a signing secret. */
export const ACCESS_TOKEN_ALGORITHM = 'RS256';

export const accessTokenClaimsSchema = z.object({
  sub: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._@-]+$/, 'sub may hold letters, digits and . _ @ -'),
  role: z.enum(['customer', 'admin']),
  tier: z.enum(['free', 'paid']),
  name: z.string().min(1).max(200).optional(),
});

export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;
