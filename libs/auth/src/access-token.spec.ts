import { createHmac } from 'node:crypto';
import { createTokenVerifier, generateSigningKeys, signAccessToken, TokenRejectedError } from './index';

const issuer = 'faultline-lab';
const audience = 'faultline-api';
const keys = generateSigningKeys();
const other = generateSigningKeys();
const alice = { sub: 'alice', role: 'customer', tier: 'free' } as const;

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function rejection(token: string): Promise<string> {
  const verifier = await createTokenVerifier({ publicKeyPem: keys.publicKeyPem, issuer, audience });
  try {
    await verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRejectedError);
    return (error as TokenRejectedError).reason;
  }
  throw new Error('the token was accepted');
}

describe('access tokens', () => {
  it('accepts a token the lab signed and returns its claims', async () => {
    const token = await signAccessToken({ ...alice, name: 'Alice' }, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 });
    const verifier = await createTokenVerifier({ publicKeyPem: keys.publicKeyPem, issuer, audience });
    await expect(verifier.verify(token)).resolves.toEqual({ ...alice, name: 'Alice' });
  });

  it.each([
    ['a wrong signature', () => signAccessToken(alice, { privateKeyPem: other.privateKeyPem, issuer, audience, ttlSeconds: 60 }), /SIGNATURE/],
    ['a wrong issuer', () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer: 'evil', audience, ttlSeconds: 60 }), /CLAIM_VALIDATION/],
    ['a wrong audience', () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience: 'other-api', ttlSeconds: 60 }), /CLAIM_VALIDATION/],
    ['an expired token', () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: -60 }), /EXPIRED/],
  ])('rejects %s', async (_case, make, reason) => {
    expect(await rejection(await make())).toMatch(reason);
  });

  it('rejects alg: none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...alice, iss: issuer, aud: audience, exp: now() + 60 })}.`;
    expect(await rejection(token)).toMatch(/ALG|JWS/);
  });

  it('rejects HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...alice, iss: issuer, aud: audience, exp: now() + 60 })}`;
    const signature = createHmac('sha256', keys.publicKeyPem).update(head).digest('base64url');
    expect(await rejection(`${head}.${signature}`)).toMatch(/ALG/);
  });

  it('rejects a token whose role is not one of ours', async () => {
    const { privateKeyPem } = keys;
    const { importPKCS8, SignJWT } = await import('jose');
    const token = await new SignJWT({ role: 'root', tier: 'free' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('mallory')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('1m')
      .sign(await importPKCS8(privateKeyPem, 'RS256'));
    expect(await rejection(token)).toBe('claims: role');
  });

  it('refuses to sign claims it would not accept', async () => {
    await expect(
      signAccessToken({ sub: 'bob', role: 'superuser' as 'admin', tier: 'free' }, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 }),
    ).rejects.toThrow();
  });
});
