import type { RevocationCheck } from './verify-access-token';

/** Revoked tokens in Redis: one sorted set, each member a jti scored by the token's expiry (Unix seconds). */
export const REVOKED_TOKENS_KEY = 'auth:revoked-tokens';

/** The Redis commands revocation needs (an ioredis client has them). */
export interface RevocationRedis {
  zadd(key: string, score: number, member: string): Promise<unknown>;
  zremrangebyscore(key: string, min: number | string, max: number | string): Promise<unknown>;
  zrangebyscore(key: string, min: number | string, max: number | string): Promise<string[]>;
}

/**
 * Revokes a token until it expires: after that its signature check refuses it anyway, so the entry is dropped then
 * (entries of expired tokens are pruned on every revocation; the set holds only live revocations).
 */
export async function revokeToken(redis: RevocationRedis, jti: string, expiresAtS: number): Promise<void> {
  await redis.zadd(REVOKED_TOKENS_KEY, expiresAtS, jti);
  await redis.zremrangebyscore(REVOKED_TOKENS_KEY, '-inf', Math.floor(Date.now() / 1000) - 1);
}

export interface RevocationListOptions {
  /** How old the copy of the set may be when a token is checked: a revocation takes effect within this bound. */
  maxAgeMs: number;
  /** How long one read of the set may take before the check goes on with the copy it has. */
  readTimeoutMs: number;
  /** Told of every failed read (Redis down or slow): the check then uses the last copy it read. */
  onReadFailure?: (error: Error) => void;
}

/**
 * The gateway's copy of the revoked tokens. A check reads the set again when its copy is older than `maxAgeMs` (one
 * small read a second at most, none while no request comes), so a revocation is honoured within that bound. When Redis
 * cannot answer, the check fails OPEN on the last copy: revocation is the exception for a short-lived token, and
 * refusing every token would make Redis a single point of failure of the whole API. `readFailures` counts it.
 */
export class RevocationList implements RevocationCheck {
  private revoked = new Set<string>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  readFailures = 0;

  constructor(
    private readonly redis: RevocationRedis,
    private readonly options: RevocationListOptions,
  ) {}

  async isRevoked(jti: string): Promise<boolean> {
    if (Date.now() - this.readAt >= this.options.maxAgeMs)
      await (this.reading ??= this.read().finally(() => (this.reading = undefined)));
    return this.revoked.has(jti);
  }

  /** How many live revocations the copy holds. */
  get size(): number {
    return this.revoked.size;
  }

  private async read(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const members = await Promise.race([
        this.redis.zrangebyscore(REVOKED_TOKENS_KEY, Math.floor(Date.now() / 1000), '+inf'),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error(`no answer within ${this.options.readTimeoutMs} ms`)),
              this.options.readTimeoutMs,
            )),
        ),
      ]);
      this.revoked = new Set(members);
    } catch (error) {
      this.readFailures++;
      this.options.onReadFailure?.(error as Error);
    } finally {
      clearTimeout(timer);
      // A failed read waits its turn too: during an outage, one request a period pays the timeout, not every one.
      this.readAt = Date.now();
    }
  }
}
