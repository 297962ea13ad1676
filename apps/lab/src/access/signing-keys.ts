// `lab keys rotate`, `lab keys retire` and `lab revoke`: what an operator does to the lab's access tokens. A rotation
// signs with a new key while the gateway still accepts the previous one (tokens already handed out keep working);
// retiring the previous key ends that overlap; a revocation refuses one token before it expires.
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { decodeJwt } from 'jose';
import { generateSigningKeys, keyId, keyLabel, publicKeysIn, revokeToken } from '@faultline/auth';
import { redisUrl } from '../infra/redis';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { jwtPrivateKeyFile, jwtPublicKeyFile } from '../topology/lab-services';

/** The gateway checks its key file at most once a second; this covers a slow machine. */
const GATEWAY_TAKES_KEYS_MS = 15_000;

export interface KeysOutcome {
  /** The key tokens are signed with now. */
  signing: string;
  /** Every key the gateway accepts now. */
  accepted: string[];
  /** What the running gateway said: it took the keys, or it is not running (the files are ready for its next start). */
  gateway: 'took the keys' | 'not running';
}

/** A new signing key; the public key file holds the new key and the previous one, so both are accepted. */
export async function rotateKeys(layout: LabLayout): Promise<KeysOutcome> {
  current(layout);
  const next = generateSigningKeys();
  const previous = signingKeyPublicHalf(layout);
  // Public keys first: from the moment the new key signs, the gateway already accepts it. A key older than the
  // previous one is dropped: an overlap is two keys, never a growing list.
  writeAtomically(jwtPublicKeyFile(layout), `${next.publicKeyPem}${previous}`, 0o644);
  writeAtomically(jwtPrivateKeyFile(layout), next.privateKeyPem, 0o600);
  const accepted = [await keyId(next.publicKeyPem), await keyId(previous)];
  return { signing: accepted[0], accepted, gateway: await gatewayTakes(layout, accepted) };
}

/** The end of the overlap: only the signing key's tokens are accepted from now on. */
export async function retireKeys(layout: LabLayout): Promise<KeysOutcome & { retired: string[] }> {
  const { publicKeys } = current(layout);
  const signing = await keyId(readFileSync(jwtPrivateKeyFile(layout), 'utf8'));
  const kids = await Promise.all(publicKeys.map((pem) => keyId(pem)));
  const retired = kids.filter((kid) => kid !== signing);
  if (retired.length === 0)
    throw new LabError(
      'keys',
      `nothing to retire: only the signing key (${signing}) is accepted; run \`lab keys rotate\` first`,
    );
  writeAtomically(jwtPublicKeyFile(layout), signingKeyPublicHalf(layout), 0o644);
  return { signing, accepted: [signing], retired, gateway: await gatewayTakes(layout, [signing]) };
}

/** Refuses one token from now on (within the gateway's REVOCATION_MAX_AGE_MS), until it would have expired anyway. */
export async function revokeLabToken(layout: LabLayout, token: string): Promise<{ jti: string; until: Date }> {
  let claims: { jti?: unknown; exp?: unknown };
  try {
    claims = decodeJwt(token.trim());
  } catch {
    throw new LabError(
      'revoke',
      'that is not a JWT (three base64url parts separated by dots), e.g. the output of `lab token`',
    );
  }
  if (typeof claims.jti !== 'string' || typeof claims.exp !== 'number')
    throw new LabError('revoke', 'the token has no jti or no exp: it is not one the lab signs');
  const until = new Date(claims.exp * 1000);
  if (until.getTime() <= Date.now())
    throw new LabError('revoke', `the token expired at ${until.toISOString()}: the gateway refuses it already`);
  try {
    await revokeJti(layout, claims.jti, claims.exp);
  } catch (error) {
    throw new LabError(
      'revoke',
      `cannot reach the lab's Redis at ${redisUrl(layout)} (${(error as Error).message}); is the lab up?`,
    );
  }
  return { jti: claims.jti, until };
}

/** Revokes the token named `jti` in the lab's Redis, until `expiresAtS` (Unix seconds) when it expires anyway. */
export async function revokeJti(layout: LabLayout, jti: string, expiresAtS: number): Promise<void> {
  const redis = new Redis(redisUrl(layout), {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await revokeToken(redis, jti, expiresAtS);
  } finally {
    redis.disconnect();
  }
}

function current(layout: LabLayout): { publicKeys: string[] } {
  const [privateFile, publicFile] = [jwtPrivateKeyFile(layout), jwtPublicKeyFile(layout)];
  if (!existsSync(privateFile) || !existsSync(publicFile))
    throw new LabError('keys', `no signing keys in ${layout.secretsDir}; run \`lab up\` first`);
  try {
    return { publicKeys: publicKeysIn(readFileSync(publicFile, 'utf8'), publicFile) };
  } catch (error) {
    throw new LabError('keys', (error as Error).message);
  }
}

/** The public half of the key tokens are signed with now, as PEM. */
function signingKeyPublicHalf(layout: LabLayout): string {
  return createPublicKey(readFileSync(jwtPrivateKeyFile(layout), 'utf8'))
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/** A reader sees the old file or the new one, never half of it. */
function writeAtomically(file: string, text: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}

/**
 * Waits until the gateway's auth_accepted_keys lists exactly `kids` (by keyLabel); a gateway that does not answer is
 * not running.
 */
async function gatewayTakes(layout: LabLayout, kids: string[]): Promise<KeysOutcome['gateway']> {
  const url = `http://127.0.0.1:${layout.ports.gateway}/metrics`;
  const want = kids.map(keyLabel).sort().join(',');
  const deadline = Date.now() + GATEWAY_TAKES_KEYS_MS;
  let seen = '';
  let answered = false;
  while (Date.now() < deadline) {
    // Each look is a request the gateway's key check rides on: it reads the file again once a second at most.
    const text = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.text())
      .catch(() => undefined);
    if (text === undefined && !answered) return 'not running';
    answered = true;
    // By each kid's short fingerprint, the service's default labels alongside:
    // `auth_accepted_keys{key="…",service="gateway"} 1`.
    seen = [...(text ?? '').matchAll(/^auth_accepted_keys\{[^}]*\bkey="([^"]+)"[^}]*\} 1$/gm)]
      .map((m) => m[1])
      .sort()
      .join(',');
    if (seen === want) return 'took the keys';
    await probeWithToken(layout);
    await sleep(250);
  }
  throw new LabError(
    'keys',
    `the gateway did not take the new keys within ${GATEWAY_TAKES_KEYS_MS / 1000} s: it accepts ${seen || 'nothing it reports'}, expected ${want}; see \`lab logs gateway\``,
  );
}

/** The gateway looks at its key file when it checks a token: give it one (any answer will do). */
async function probeWithToken(layout: LabLayout): Promise<void> {
  await fetch(`http://127.0.0.1:${layout.ports.gateway}/v1/orders?limit=1`, {
    headers: { authorization: 'Bearer a.b.c' },
    signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
}
