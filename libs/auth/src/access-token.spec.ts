import { createHmac } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import {
  createTokenVerifier,
  generateSigningKeys,
  keyId,
  publicKeysIn,
  signAccessToken,
  TokenRejectedError,
} from './index';

const issuer = 'faultline-lab';
const audience = 'faultline-api';
const keys = generateSigningKeys();
const other = generateSigningKeys();
const alice = { sub: 'alice', role: 'customer', tier: 'free' } as const;

const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
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

/** The same token with its header's kid replaced (the signature no longer matches that key). */
function forgeKid(token: string, kid: string): string {
  const [head, body, signature] = token.split('.');
  return [b64({ ...(JSON.parse(Buffer.from(head, 'base64url').toString()) as object), kid }), body, signature].join(
    '.',
  );
}

describe('key rotation', () => {
  const next = generateSigningKeys();

  it('names the signing key in kid, the thumbprint of its public half, the same from either half', async () => {
    const token = await signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 });
    expect(decodeProtectedHeader(token).kid).toBe(await keyId(keys.publicKeyPem));
    expect(await keyId(keys.privateKeyPem)).toBe(await keyId(keys.publicKeyPem));
    expect(await keyId(next.publicKeyPem)).not.toBe(await keyId(keys.publicKeyPem));
  });

  it('during the overlap accepts tokens of the old key and of the new; after it, the old key’s are refused', async () => {
    const old = await signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 });
    const fresh = await signAccessToken(alice, { privateKeyPem: next.privateKeyPem, issuer, audience, ttlSeconds: 60 });
    const overlap = await createTokenVerifier({
      publicKeyPem: next.publicKeyPem,
      alsoAccepted: [keys.publicKeyPem],
      issuer,
      audience,
    });
    await expect(overlap.verify(old)).resolves.toEqual(alice);
    await expect(overlap.verify(fresh)).resolves.toEqual(alice);
    const after = await createTokenVerifier({ publicKeyPem: next.publicKeyPem, issuer, audience });
    await expect(after.verify(fresh)).resolves.toEqual(alice);
    await expect(after.verify(old)).rejects.toThrow(`unknown signing key ${await keyId(keys.publicKeyPem)}`);
  });

  it('accepts a token without kid only while a single key is accepted', async () => {
    const { importPKCS8, SignJWT } = await import('jose');
    const bare = await new SignJWT({ role: 'customer', tier: 'free' })
      .setProtectedHeader({ alg: 'RS256' })
      .setJti('bare-1')
      .setSubject('alice')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('1m')
      .sign(await importPKCS8(keys.privateKeyPem, 'RS256'));
    await expect(
      (await createTokenVerifier({ publicKeyPem: keys.publicKeyPem, issuer, audience })).verify(bare),
    ).resolves.toEqual(alice);
    await expect(
      (
        await createTokenVerifier({
          publicKeyPem: next.publicKeyPem,
          alsoAccepted: [keys.publicKeyPem],
          issuer,
          audience,
        })
      ).verify(bare),
    ).rejects.toThrow('no kid, and more than one key is accepted');
  });
});

describe('access tokens', () => {
  it('accepts a token the lab signed and returns its claims', async () => {
    const token = await signAccessToken(
      { ...alice, name: 'Alice' },
      { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 },
    );
    const verifier = await createTokenVerifier({ publicKeyPem: keys.publicKeyPem, issuer, audience });
    await expect(verifier.verify(token)).resolves.toEqual({ ...alice, name: 'Alice' });
  });

  it.each([
    [
      'a token from another signer (its key id is not ours)',
      () => signAccessToken(alice, { privateKeyPem: other.privateKeyPem, issuer, audience, ttlSeconds: 60 }),
      /unknown signing key/,
    ],
    [
      'a wrong signature under our key id',
      async () =>
        forgeKid(
          await signAccessToken(alice, { privateKeyPem: other.privateKeyPem, issuer, audience, ttlSeconds: 60 }),
          await keyId(keys.publicKeyPem),
        ),
      /SIGNATURE/,
    ],
    [
      'a wrong issuer',
      () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer: 'evil', audience, ttlSeconds: 60 }),
      /CLAIM_VALIDATION/,
    ],
    [
      'a wrong audience',
      () =>
        signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience: 'other-api', ttlSeconds: 60 }),
      /CLAIM_VALIDATION/,
    ],
    [
      'an expired token',
      () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: -60 }),
      /EXPIRED/,
    ],
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
      .setJti('mallory-1')
      .setSubject('mallory')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('1m')
      .sign(await importPKCS8(privateKeyPem, 'RS256'));
    expect(await rejection(token)).toBe('claims: role');
  });

  it('rejects a token with no jti: every token the lab accepts can be revoked', async () => {
    const { importPKCS8, SignJWT } = await import('jose');
    const token = await new SignJWT({ role: 'customer', tier: 'free' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('alice')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('1m')
      .sign(await importPKCS8(keys.privateKeyPem, 'RS256'));
    expect(await rejection(token)).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('names each token by a fresh jti, and refuses a revoked one while its twin is accepted', async () => {
    const sign = () => signAccessToken(alice, { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 });
    const [revoked, kept] = [await sign(), await sign()];
    const jti = (t: string) =>
      (JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()) as { jti: string }).jti;
    expect(jti(revoked)).toMatch(/^[0-9a-f-]{36}$/);
    expect(jti(revoked)).not.toBe(jti(kept));
    const verifier = await createTokenVerifier({
      publicKeyPem: keys.publicKeyPem,
      issuer,
      audience,
      revocations: { isRevoked: async (id) => id === jti(revoked) },
    });
    await expect(verifier.verify(revoked)).rejects.toThrow('token rejected: revoked');
    await expect(verifier.verify(kept)).resolves.toEqual(alice);
  });

  it('reads every public key of a key file (the new and the previous one during a rotation), and refuses a file with none', () => {
    expect(publicKeysIn(`${keys.publicKeyPem}${other.publicKeyPem}`)).toEqual([keys.publicKeyPem, other.publicKeyPem]);
    expect(publicKeysIn(keys.publicKeyPem)).toEqual([keys.publicKeyPem]);
    expect(() => publicKeysIn(keys.privateKeyPem, 'jwt-public.pem')).toThrow('jwt-public.pem holds no PEM public key');
  });

  it('refuses to sign claims it would not accept', async () => {
    await expect(
      signAccessToken(
        { sub: 'bob', role: 'superuser' as 'admin', tier: 'free' },
        { privateKeyPem: keys.privateKeyPem, issuer, audience, ttlSeconds: 60 },
      ),
    ).rejects.toThrow();
  });
});
