import { randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { ACCESS_TOKEN_ALGORITHM, AccessTokenClaims, accessTokenClaimsSchema } from './access-token';
import { keyId } from './key-id';

export interface SignOptions {
  privateKeyPem: string;
  issuer: string;
  audience: string;
  /** Lifetime in seconds; the lab's default is long enough for a session of experiments. */
  ttlSeconds: number;
}

export async function signAccessToken(claims: AccessTokenClaims, options: SignOptions): Promise<string> {
  const valid = accessTokenClaimsSchema.parse(claims);
  const key = await importPKCS8(options.privateKeyPem, ACCESS_TOKEN_ALGORITHM);
  const { sub, ...rest } = valid;
  // kid names the signing key, so a verifier holding the current and the previous key (a rotation) picks the right one;
  // jti names the token, so it can be revoked before it expires.
  return new SignJWT(rest)
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, typ: 'JWT', kid: await keyId(options.privateKeyPem) })
    .setSubject(sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds}s`)
    .sign(key);
}
