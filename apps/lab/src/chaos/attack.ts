// The attacker of auth-attack, on either target: while the customers' load runs, one attempt after another at what
// an API's callers try when they want more than they were given. Tokens it could have forged or stolen (its own
// signature, `alg: none`, HS256 signed with the public key, another audience, an expired one, a customer token edited
// to claim `role: admin`, a revoked one, one whose key was retired), another customer's order read by its id (IDOR),
// the admin route as a customer, and the internal ports reached around the gateway. It only records what it saw:
// the checks (checks.ts) judge it against the databases.
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT } from 'jose';
import { signAccessToken } from '@faultline/auth';
import { JWT_AUDIENCE, JWT_ISSUER } from '../topology/lab-services';

/** What the attacker tries, each a refusal the gateway owes it. */
export const ATTACKS = {
  'no-token': { expect: [401], what: 'no Authorization header' },
  'forged-signature': { expect: [401], what: "signed with the attacker's own RSA key, under the lab key's kid" },
  'alg-none': { expect: [401], what: '`alg: none`, no signature' },
  'hs256-with-public-key': { expect: [401], what: 'HS256 with the public key as the HMAC secret (HS/RS confusion)' },
  'wrong-audience': { expect: [401], what: 'a real token for another audience' },
  expired: { expect: [401], what: 'a real token, expired' },
  'role-claim-tampered': {
    expect: [401],
    what: "the attacker's customer token, payload edited to role admin, signature kept",
  },
  revoked: { expect: [401], what: "the attacker's own token, after it was revoked" },
  'retired-key': { expect: [401], what: 'a token signed with a key since retired (rotated out)' },
  'idor-read': { expect: [404], what: "another customer's order read by its id with the attacker's own valid token" },
  'admin-route-as-customer': { expect: [403], what: 'PUT /v1/admin/products/{sku}/stock with a valid customer token' },
} as const satisfies Record<string, { expect: readonly number[]; what: string }>;
export type AttackKind = keyof typeof ATTACKS;

/** The SKU the attacker tries to restock, outside the load's; a stock of SENTINEL_STOCK anywhere would be its write. */
export const ATTACKED_SKU = 'SKU-0046';
export const SENTINEL_STOCK = 424_242;

export interface AttackAttempt {
  /** ms since the load started. */
  t: number;
  attack: AttackKind;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  status: number;
  contentType: string;
  ms: number;
  /** Victims' data found in the answer (order ids the request did not name, customer ids), empty when none. */
  leaked: string[];
  error?: string;
}

/** One connect from where a caller must not reach an internal port (or, a control, from where it must). */
export interface BypassProbe {
  from: string;
  to: string;
  reached: boolean;
  /**
   * A control: the same port from where it is allowed, so that "not reached" means a closed path, not a dead service.
   */
  control: boolean;
  detail: string;
}

export interface AttackFacts {
  attempts: AttackAttempt[];
  bypass: BypassProbe[];
  /** Customer ids the attacker's tokens claim (`chaos-<runId>-x-…`): no order, key or row may carry one. */
  attackerPrefix: string;
  sku: string;
  sentinel: number;
  /** Victim orders the IDOR attempts named. */
  victims: number;
  /** Preconditions the attacker checked before trusting a refusal (its own token accepted before revocation, …). */
  controls: { what: string; ok: boolean; detail: string }[];
  /** Attacks this target could not make, and why. */
  notTried: string[];
}

export interface AttackTarget {
  baseUrl: string;
  /** The key the lab signs with, for tokens a real issuer would have handed out (expired, another audience). */
  signingKeyPem: () => string;
  /** Orders of the run's customers (victims), as the attacker would have learnt their ids. */
  victims: () => Promise<{ id: string; customer: string }[]>;
  /** Revokes a token by its jti until its expiry (what `lab revoke` does). */
  revoke: (jti: string, expiresAtS: number) => Promise<void>;
  /**
   * A key rotation: `rotate` (before the load, so that the customers' tokens are signed with the new key) starts the
   * overlap, `retire` ends it. Undefined where the target cannot rotate keys during a run.
   */
  rotation?: { rotate(): Promise<void>; retire(): Promise<void> };
  /** Connects to the internal ports from where they must not be reachable, with their controls. */
  bypass: () => Promise<BypassProbe[]>;
  log: (message: string) => void;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The attacker's forgeries, from a valid customer token (its own account) and the lab's kid (public in any token). */
export async function forgedTokens(
  own: string,
  kid: string,
  signingKeyPem: string,
  sub: (attack: string) => string,
): Promise<
  Record<
    'forged-signature' | 'alg-none' | 'hs256-with-public-key' | 'wrong-audience' | 'expired' | 'role-claim-tampered',
    string
  >
> {
  const now = Math.floor(Date.now() / 1000);
  const claims = (attack: string) => ({
    role: 'admin',
    tier: 'paid',
    sub: sub(attack),
    iss: JWT_ISSUER,
    aud: JWT_AUDIENCE,
    jti: randomUUID(),
    iat: now,
    exp: now + 3600,
  });
  const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const forged = await new SignJWT(claims('forged'))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(attackerKey);
  const none = `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(claims('none'))}.`;
  const publicPem = createPublicKey(signingKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  const hs = await new SignJWT(claims('hs'))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .sign(new TextEncoder().encode(publicPem));
  const realKey = await importPKCS8(signingKeyPem, 'RS256');
  const audience = await new SignJWT({ ...claims('audience'), aud: 'faultline-admin-console' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(realKey);
  const expired = await new SignJWT({ ...claims('expired'), iat: now - 7200, exp: now - 600 })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(realKey);
  const [header, payload, signature] = own.split('.');
  const tampered = `${header}.${b64({ ...(JSON.parse(Buffer.from(payload, 'base64url').toString()) as object), role: 'admin' })}.${signature}`;
  return {
    'forged-signature': forged,
    'alg-none': none,
    'hs256-with-public-key': hs,
    'wrong-audience': audience,
    expired,
    'role-claim-tampered': tampered,
  };
}

/** Victims' data in an answer: ids of their orders the request did not name, and their customer ids. */
export function leaksIn(body: string, path: string, victims: readonly { id: string; customer: string }[]): string[] {
  const found = new Set<string>();
  for (const v of victims) {
    if (body.includes(v.id) && !path.includes(v.id)) found.add(`order ${v.id}`);
    if (body.includes(`"${v.customer}"`)) found.add(`customer ${v.customer}`);
  }
  return [...found];
}

type Request = { attack: AttackKind; method: AttackAttempt['method']; path: string; token?: string; body?: unknown };

async function send(
  baseUrl: string,
  r: Request,
  victims: readonly { id: string; customer: string }[],
  t0: number,
): Promise<AttackAttempt> {
  const started = performance.now();
  const t = Date.now() - t0;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (r.token) headers['authorization'] = `Bearer ${r.token}`;
  if (r.method === 'POST') headers['idempotency-key'] = randomUUID();
  try {
    const response = await fetch(`${baseUrl}${r.path}`, {
      method: r.method,
      headers,
      ...(r.body ? { body: JSON.stringify(r.body) } : {}),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    return {
      t,
      attack: r.attack,
      method: r.method,
      path: r.path,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      ms: performance.now() - started,
      leaked: leaksIn(text, r.path, victims),
    };
  } catch (error) {
    return {
      t,
      attack: r.attack,
      method: r.method,
      path: r.path,
      status: 0,
      contentType: '',
      ms: performance.now() - started,
      leaked: [],
      error: (error as Error).message,
    };
  }
}

/** Polls `ok` every 100 ms for at most `timeoutMs`: how long it took, or undefined if it never held. */
async function within(timeoutMs: number, ok: () => Promise<boolean>): Promise<number | undefined> {
  const from = Date.now();
  while (Date.now() - from <= timeoutMs) {
    if (await ok()) return Date.now() - from;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const attackerOf = (runId: string) => `chaos-${runId}-x-`;
const mintFor = (target: AttackTarget, runId: string) => () =>
  signAccessToken(
    { sub: `${attackerOf(runId)}attacker`, role: 'customer', tier: 'paid' },
    { privateKeyPem: target.signingKeyPem(), issuer: JWT_ISSUER, audience: JWT_AUDIENCE, ttlSeconds: 3600 },
  );
const acceptedBy = (target: AttackTarget) => async (token: string) =>
  (await send(target.baseUrl, { attack: 'revoked', method: 'GET', path: '/v1/orders?limit=1', token }, [], Date.now()))
    .status === 200;

/** Before the load: the key rotation's overlap begins (a token of the previous key in hand). */
export interface AttackPreparation {
  previousKeyToken?: string;
  controls: AttackFacts['controls'];
}

export async function prepareAttack(target: AttackTarget, runId: string): Promise<AttackPreparation> {
  if (!target.rotation) return { controls: [] };
  const mint = mintFor(target, runId);
  const accepted = acceptedBy(target);
  const old = await mint();
  await target.rotation.rotate();
  // The gateway reads its key file again within a second: await the overlap, both keys accepted.
  const [overlapMs, fresh] = [await within(5000, async () => accepted(await mint())), await accepted(old)];
  const ok = overlapMs !== undefined && fresh;
  const detail = `${overlapMs !== undefined ? `the new key's token accepted ${overlapMs} ms after the rotation` : "the new key's token NOT accepted 5 s after the rotation"}, the previous key's ${fresh ? 'still accepted' : 'REFUSED'}`;
  target.log(`attack control: rotation overlap: ${detail}`);
  return {
    previousKeyToken: old,
    controls: [{ what: 'both keys are accepted during the rotation overlap', ok, detail }],
  };
}

/**
 * The attack, `rate` attempts a second for `holdS` seconds, every kind in turn, from the run's attacker account
 * (`chaos-<runId>-x-attacker`). `t0` is the load's start (attempt times count from it).
 */
export async function runAttack(
  target: AttackTarget,
  runId: string,
  prepared: AttackPreparation,
  rate: number,
  holdS: number,
  t0: number,
): Promise<AttackFacts> {
  const prefix = attackerOf(runId);
  const facts: AttackFacts = {
    attempts: [],
    bypass: [],
    attackerPrefix: prefix,
    sku: ATTACKED_SKU,
    sentinel: SENTINEL_STOCK,
    victims: 0,
    controls: [...prepared.controls],
    notTried: [],
  };
  const mint = mintFor(target, runId);
  const accepted = acceptedBy(target);
  const control = (what: string, ok: boolean, detail: string) => {
    facts.controls.push({ what, ok, detail });
    target.log(`attack control: ${what}: ${detail}`);
  };
  const tokens: Partial<Record<AttackKind, string>> = {};

  // The end of the rotation's overlap: the previous key's token refused from now on.
  if (target.rotation && prepared.previousKeyToken) {
    const old = prepared.previousKeyToken;
    await target.rotation.retire();
    const took = await within(5000, async () => !(await accepted(old)));
    control(
      'the previous key is refused once retired',
      took !== undefined,
      took !== undefined ? `refused ${took} ms after the retirement` : 'still accepted 5 s after the retirement',
    );
    tokens['retired-key'] = old;
  } else
    facts.notTried.push('retired-key: this target rotates no keys during a run (`lab keys` acts on the local target)');

  const own = await mint();
  const kid = String(decodeProtectedHeader(own).kid);
  Object.assign(tokens, await forgedTokens(own, kid, target.signingKeyPem(), (a) => `${prefix}${a}`));
  const ownOk = await accepted(own);
  control(
    "the attacker's own customer token is accepted (its refusals are the attacks', not a broken token)",
    ownOk,
    ownOk ? 'accepted (200)' : 'REFUSED',
  );

  // Revocation: a stolen token of the attacker's own account, accepted, then revoked: refused within the bound.
  const stolen = await mint();
  const stolenOk = await accepted(stolen);
  const stolenClaims = decodeJwt(stolen);
  await target.revoke(String(stolenClaims.jti), Number(stolenClaims.exp));
  const refusedIn = await within(5000, async () => !(await accepted(stolen)));
  control(
    'the token is accepted before its revocation and refused after',
    stolenOk && refusedIn !== undefined,
    `${stolenOk ? 'accepted before' : 'REFUSED before'}; ${refusedIn !== undefined ? `refused ${refusedIn} ms after the revocation` : 'still accepted 5 s after the revocation'}`,
  );
  tokens.revoked = stolen;

  let victims = await target.victims();
  const order = { items: [{ sku: ATTACKED_SKU, quantity: 1 }] };
  const plan: ((i: number) => Request | undefined)[] = [
    () => ({ attack: 'no-token', method: 'POST', path: '/v1/orders', body: order }),
    ...(
      [
        'forged-signature',
        'alg-none',
        'hs256-with-public-key',
        'wrong-audience',
        'expired',
        'role-claim-tampered',
        'revoked',
        'retired-key',
      ] as const
    ).flatMap((attack) =>
      tokens[attack]
        ? [
            (): Request => ({ attack, method: 'GET', path: '/v1/orders?limit=50', token: tokens[attack] }),
            (): Request => ({ attack, method: 'POST', path: '/v1/orders', token: tokens[attack], body: order }),
            (): Request => ({
              attack,
              method: 'PUT',
              path: `/v1/admin/products/${ATTACKED_SKU}/stock`,
              token: tokens[attack],
              body: { available: SENTINEL_STOCK },
            }),
          ]
        : [],
    ),
    (i) =>
      victims.length
        ? { attack: 'idor-read', method: 'GET', path: `/v1/orders/${victims[i % victims.length].id}`, token: own }
        : undefined,
    (i) =>
      victims.length
        ? { attack: 'idor-read', method: 'GET', path: `/v1/orders/${victims[(i * 7) % victims.length].id}`, token: own }
        : undefined,
    () => ({
      attack: 'admin-route-as-customer',
      method: 'PUT',
      path: `/v1/admin/products/${ATTACKED_SKU}/stock`,
      token: own,
      body: { available: SENTINEL_STOCK },
    }),
  ];

  const started = Date.now();
  const pending: Promise<void>[] = [];
  const named = new Set<string>();
  for (let i = 0; Date.now() - started < holdS * 1000; i++) {
    if (i % Math.max(1, Math.round(rate * 2)) === 0) victims = await target.victims().catch(() => victims);
    const request = plan[i % plan.length](Math.floor(i / plan.length));
    if (request) {
      if (request.attack === 'idor-read') named.add(request.path);
      pending.push(send(target.baseUrl, request, victims, t0).then((a) => void facts.attempts.push(a)));
    }
    const next = started + ((i + 1) * 1000) / rate - Date.now();
    if (next > 0) await new Promise((r) => setTimeout(r, next));
  }
  await Promise.all(pending);
  facts.victims = named.size;
  facts.bypass = await target.bypass();
  return facts;
}

/** Whether the attack happened, from the gateway's answers (not the attacker's plan), with what it tried. */
export function attackProof(facts: AttackFacts, rate: number, holdS: number): { fired: boolean; evidence: string[] } {
  const planned = Math.round(rate * holdS);
  const answered = facts.attempts.filter((a) => a.status !== 0).length;
  return {
    fired: answered >= planned * 0.9 && facts.bypass.length > 0,
    evidence: [
      `the gateway answered ${answered} of ${facts.attempts.length} attack attempts (${planned} planned at ${rate}/s); ${facts.bypass.length} connects tried around the gateway`,
      ...facts.controls.map((c) => `control: ${c.what}: ${c.detail}`),
    ],
  };
}
