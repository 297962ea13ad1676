import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import type { KeyLike } from 'jose';
import { ACCESS_TOKEN_ALGORITHM, AccessTokenClaims, accessTokenClaimsSchema } from './access-token';
import { keyId } from './key-id';

export interface VerifierOptions {
  /** The signing key's public half. */
  publicKeyPem: string;
  /**
   * Keys also accepted: during a rotation, the previous key's public half, until every token it signed has expired.
   * Each token names its key (`kid`); a token without one is accepted only while a single key is.
   */
  alsoAccepted?: string[];
  issuer: string;
  audience: string;
  /** Tolerated clock difference between the signer and us, in seconds. */
  clockToleranceSeconds?: number;
  /** Tokens revoked before they expire, by jti (e.g. a RevocationList); without it none is. */
  revocations?: RevocationCheck;
}

export interface RevocationCheck {
  isRevoked(jti: string): Promise<boolean>;
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
  const keys = new Map<string, KeyLike>();
  for (const pem of [options.publicKeyPem, ...(options.alsoAccepted ?? [])])
    keys.set(await keyId(pem), await importSPKI(pem, ACCESS_TOKEN_ALGORITHM));
  const only = keys.size === 1 ? [...keys.values()][0] : undefined;
  return {
    async verify(token: string) {
      let payload: Record<string, unknown>;
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw new TokenRejectedError('malformed token');
      }
      // The key the token names; a key we do not hold (another signer, or one rotated out) is refused outright.
      const key = kid === undefined ? only : keys.get(kid);
      if (!key)
        throw new TokenRejectedError(
          kid === undefined ? 'no kid, and more than one key is accepted' : `unknown signing key ${kid}`,
        );
      try {
        // `algorithms` pins RS256: `alg: none`, and HS256 signed with our public key as the secret, both fail here.
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ACCESS_TOKEN_ALGORITHM],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['exp', 'sub', 'jti'],
          clockTolerance: options.clockToleranceSeconds ?? 5,
        }));
      } catch (error) {
        throw new TokenRejectedError((error as { code?: string }).code ?? (error as Error).message);
      }
      if (options.revocations && (await options.revocations.isRevoked(String(payload['jti']))))
        throw new TokenRejectedError('revoked');
      const claims = accessTokenClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new TokenRejectedError(`claims: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      }
      return claims.data;
    },
  };
}
