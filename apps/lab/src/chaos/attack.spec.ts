// The attacker's forgeries against the verifier the gateway runs: each is a token a careless verifier would take,
// and ours refuses; the leak detector finds a victim's data in an answer, and not the id the attacker sent itself.
import { createTokenVerifier, generateSigningKeys, signAccessToken, TokenRejectedError } from '@faultline/auth';
import { JWT_AUDIENCE, JWT_ISSUER } from '../topology/lab-services';
import { forgedTokens, leaksIn } from './attack';
import { internalPortsClosed, refusalsProblemJson } from './auth-checks';
import { fixtureEvidence } from './evidence.fixtures';

describe('the attacker’s tokens', () => {
  it('are each refused by the gateway’s verifier, while the token they were made from is accepted', async () => {
    const keys = generateSigningKeys();
    const verifier = await createTokenVerifier({
      publicKeyPem: keys.publicKeyPem,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    const own = await signAccessToken(
      { sub: 'chaos-r1-x-attacker', role: 'customer', tier: 'paid' },
      { privateKeyPem: keys.privateKeyPem, issuer: JWT_ISSUER, audience: JWT_AUDIENCE, ttlSeconds: 600 },
    );
    await expect(verifier.verify(own)).resolves.toMatchObject({ sub: 'chaos-r1-x-attacker', role: 'customer' });
    const kid = JSON.parse(Buffer.from(own.split('.')[0], 'base64url').toString()).kid as string;
    const forged = await forgedTokens(own, kid, keys.privateKeyPem, (a) => `chaos-r1-x-${a}`);
    expect(Object.keys(forged).sort()).toEqual([
      'alg-none',
      'expired',
      'forged-signature',
      'hs256-with-public-key',
      'role-claim-tampered',
      'wrong-audience',
    ]);
    for (const [attack, token] of Object.entries(forged)) {
      const outcome = await verifier.verify(token).then(
        () => 'accepted',
        (error: Error) => (error instanceof TokenRejectedError ? 'rejected' : error.message),
      );
      expect({ attack, outcome }).toEqual({ attack, outcome: 'rejected' });
    }
    // The tampered token claims admin: only its signature stands between it and the admin routes.
    expect(JSON.parse(Buffer.from(forged['role-claim-tampered'].split('.')[1], 'base64url').toString())).toMatchObject({
      role: 'admin',
      sub: 'chaos-r1-x-attacker',
    });
  });
});

describe('leaksIn', () => {
  const victims = [{ id: '11111111-1111-4111-8111-111111111111', customer: 'chaos-r1-007' }];
  it('finds a victim’s order id or customer id in an answer', () => {
    expect(
      leaksIn(`{"items":[{"id":"${victims[0].id}","customerId":"chaos-r1-007"}]}`, '/v1/orders?limit=50', victims),
    ).toEqual([`order ${victims[0].id}`, 'customer chaos-r1-007']);
  });
  it('does not count the id the request named (a 404 problem may echo its path)', () => {
    expect(
      leaksIn(`{"status":404,"instance":"/v1/orders/${victims[0].id}"}`, `/v1/orders/${victims[0].id}`, victims),
    ).toEqual([]);
  });
});

describe('the auth checks refuse to judge on broken controls', () => {
  const facts = (extra: Record<string, unknown>) => ({
    attack: {
      attempts: [
        {
          t: 1,
          attack: 'no-token',
          method: 'GET',
          path: '/v1/orders',
          status: 401,
          contentType: 'application/problem+json',
          ms: 1,
          leaked: [],
        },
      ],
      bypass: [],
      attackerPrefix: 'chaos-r1-x-',
      sku: 'SKU-0046',
      sentinel: 1,
      victims: 0,
      controls: [],
      notTried: [],
      ...extra,
    },
  });
  it('a refusal of a token that was never accepted proves nothing: INCONCLUSIVE', () => {
    const j = refusalsProblemJson(
      fixtureEvidence({
        facts: facts({
          controls: [{ what: 'the token is accepted before its revocation', ok: false, detail: 'REFUSED before' }],
        }),
      }),
    );
    expect(j).toEqual({ unavailable: expect.stringMatching(/controls did not hold.*REFUSED before/) });
  });
  it('a port that does not answer from where it must proves nothing about where it must not', () => {
    const j = internalPortsClosed(
      fixtureEvidence({
        facts: facts({
          bypass: [
            { from: 'loopback', to: 'orders grpc :7051', reached: false, control: true, detail: 'ECONNREFUSED' },
            { from: 'the network', to: 'orders grpc :7051', reached: false, control: false, detail: 'ECONNREFUSED' },
          ],
        }),
      }),
    );
    expect(j).toEqual({ unavailable: expect.stringMatching(/loopback → orders grpc :7051 \(ECONNREFUSED\)/) });
  });
  it('an attack kind never tried fails the refusals check, unless the target said why it could not', () => {
    expect(refusalsProblemJson(fixtureEvidence({ facts: facts({}) }))).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/never tried: forged-signature/),
    });
  });
});
