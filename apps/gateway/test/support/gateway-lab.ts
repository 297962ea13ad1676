// A whole lab for the gateway's contract suite, started by the real `lab` CLI on its own state folder and ports
// (offset 2400: gateway on 10480), so it never touches a user's lab or the shared integration lab.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { generateSigningKeys, signAccessToken, type AccessTokenClaims } from '@faultline/auth';
import { labCli, repoRoot } from '@faultline/testing';

export { repoRoot };
export const LAB_ENV = { LAB_STATE_DIR: '.lab/test-gateway', LAB_PORT_OFFSET: '2400', LAB_GATEWAY_PORT: '' };
export const GATEWAY = `http://127.0.0.1:${8080 + 2400}`;
const ISSUER = 'faultline-lab';
const AUDIENCE = 'faultline-api';

/** Runs the real `lab` CLI (as `npx lab` does) against this suite's lab. */
export const lab = labCli(LAB_ENV).exec;

/**
 * Rate limits far above anything a suite sends, for suites that test something else through the gateway (the
 * contract, resilience): without them the free tier's 5-write burst would turn their requests into 429s. The rate
 * limiter's own suite sets small limits instead. The write admission rate is off too: fuzzing sends writes faster
 * than the lab admits (the overload experiment tests that bound).
 */
export const LIMITS_OUT_OF_THE_WAY: Record<string, string> = {
  ...Object.fromEntries(
    ['FREE', 'PAID'].flatMap((tier) =>
      ['READ', 'WRITE'].flatMap((kind) => [
        [`RATE_LIMIT_${tier}_${kind}_BURST`, '100000'],
        [`RATE_LIMIT_${tier}_${kind}_PER_MINUTE`, '6000000'],
      ]),
    ),
  ),
  SHED_MAX_WRITES_PER_S: '0',
};

/** `lab up` with the gateway's limits out of the way. */
export const labUpWithoutLimits = () =>
  lab('up', ...Object.entries(LIMITS_OUT_OF_THE_WAY).flatMap(([k, v]) => ['--set', `gateway.${k}=${v}`]));

/** A valid token from `lab token`, exactly as a user gets one. */
export async function labToken(sub: string, role: 'customer' | 'admin' = 'customer', name?: string): Promise<string> {
  const result = await lab('token', '--sub', sub, '--role', role, '--tier', 'free', ...(name ? ['--name', name] : []));
  if (result.code !== 0) throw new Error(`lab token failed: ${result.stderr}`);
  return result.stdout.trim();
}

const labPrivateKey = () => readFileSync(join(repoRoot, LAB_ENV.LAB_STATE_DIR, 'secrets', 'jwt-private.pem'), 'utf8');
const claims: AccessTokenClaims = { sub: 'mallory', role: 'admin', tier: 'paid' };
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens the gateway must refuse with 401, each for one reason. */
export async function rejectedTokens(): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000);
  const labKey = await importPKCS8(labPrivateKey(), 'RS256');
  const publicPem = readFileSync(join(repoRoot, LAB_ENV.LAB_STATE_DIR, 'secrets', 'jwt-public.pem'), 'utf8');
  const valid = await signAccessToken(claims, {
    privateKeyPem: labPrivateKey(),
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds: 600,
  });
  const [header, payload] = valid.split('.');
  return {
    expired: await new SignJWT({ role: 'admin', tier: 'paid' })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(labKey),
    'wrong signature (another key)': await signAccessToken(claims, {
      privateKeyPem: generateSigningKeys().privateKeyPem,
      issuer: ISSUER,
      audience: AUDIENCE,
      ttlSeconds: 600,
    }),
    'wrong issuer': await signAccessToken(claims, {
      privateKeyPem: labPrivateKey(),
      issuer: 'someone-else',
      audience: AUDIENCE,
      ttlSeconds: 600,
    }),
    'wrong audience': await signAccessToken(claims, {
      privateKeyPem: labPrivateKey(),
      issuer: ISSUER,
      audience: 'another-api',
      ttlSeconds: 600,
    }),
    'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
    'HS256 signed with the public key (algorithm confusion)': await new SignJWT({ role: 'admin', tier: 'paid' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicPem)),
    'tampered payload': `${header}.${b64url({ sub: 'mallory', role: 'admin', tier: 'paid', iss: ISSUER, aud: AUDIENCE, exp: now + 600 })}.${valid.split('.')[2]}`,
    'not a JWT': 'hello',
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** One request to the gateway; the body is sent as given when it is a string, else as JSON. */
export async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${GATEWAY}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
