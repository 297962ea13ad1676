import { importSPKI, jwtVerify } from 'jose';
import type { KeyLike } from 'jose';
import { ACCESS_TOKEN_ALGORITHM, AccessTokenClaims, accessTokenClaimsSchema } from './access-token';

export interface VerifierOptions {
  publicKeyPem: string;
  issuer: string;
  audience: string;
  /** Tolerated clock difference between the signer and us, in seconds. */
  clockToleranceSeconds?: number;
}

/** Why a token was refused; the gateway maps every one of these to 401 without echoing details to the caller. */
export class TokenRejectedError extends Error {
  constructor(readonly reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

export interface TokenVerifier {
  verify(token: string): Promise<AccessTokenClaims>;
}

export async function createTokenVerifier(options: VerifierOptions): Promise<TokenVerifier> {
  const key: KeyLike = await importSPKI(options.publicKeyPem, ACCESS_TOKEN_ALGORITHM);
  return {
    async verify(token: string) {
      let payload: Record<string, unknown>;
      try {
        // `algorithms` pins RS256: `alg: none`, and HS256 signed with our public key as the secret, both fail here.
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ACCESS_TOKEN_ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: options.clockToleranceSeconds ?? 5,
        }));
      } catch (error) {
        throw new TokenRejectedError((error as { code?: string }).code ?? (error as Error).message);
      }
      const claims = accessTokenClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new TokenRejectedError(`claims: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      }
      return claims.data;
    },
  };
}
