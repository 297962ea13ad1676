// The revocation list's policy over a stand-in for Redis: how stale it may be, one read shared by concurrent checks,
// and failing open on the last copy. The real Redis path is the gateway's contract suite (`lab revoke`).
import { REVOKED_TOKENS_KEY, RevocationList, revokeToken, type RevocationRedis } from './revocation-list';

class FakeRedis implements RevocationRedis {
  readonly sets = new Map<string, Map<string, number>>();
  reads = 0;
  /** What the next reads do: answer, fail, or never answer. */
  mode: 'answer' | 'fail' | 'hang' = 'answer';

  async zadd(key: string, score: number, member: string) {
    if (!this.sets.has(key)) this.sets.set(key, new Map());
    this.sets.get(key)?.set(member, score);
  }
  async zremrangebyscore(key: string, _min: number | string, max: number | string) {
    for (const [m, s] of this.sets.get(key) ?? []) if (s <= Number(max)) this.sets.get(key)?.delete(m);
  }
  zrangebyscore(key: string, min: number | string): Promise<string[]> {
    this.reads++;
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise(() => undefined);
    return Promise.resolve([...(this.sets.get(key) ?? [])].filter(([, s]) => s >= Number(min)).map(([m]) => m));
  }
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('RevocationList', () => {
  let clock: number;
  beforeEach(() => {
    clock = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  it('honours a revocation once its copy is older than maxAgeMs, not before; one read per period', async () => {
    const redis = new FakeRedis();
    const list = new RevocationList(redis, { maxAgeMs: 1000, readTimeoutMs: 100 });
    expect(await list.isRevoked('t1')).toBe(false);
    await revokeToken(redis, 't1', nowS() + 60);
    clock += 500;
    expect(await list.isRevoked('t1')).toBe(false);
    expect(redis.reads).toBe(1);
    clock += 500;
    expect(await list.isRevoked('t1')).toBe(true);
    expect(await list.isRevoked('t2')).toBe(false);
    expect(redis.reads).toBe(2);
  });

  it('shares one read among concurrent checks', async () => {
    const redis = new FakeRedis();
    const list = new RevocationList(redis, { maxAgeMs: 1000, readTimeoutMs: 100 });
    await Promise.all(Array.from({ length: 20 }, () => list.isRevoked('x')));
    expect(redis.reads).toBe(1);
  });

  it('fails open on the last copy when Redis fails or does not answer in time, counting each failure', async () => {
    const redis = new FakeRedis();
    const failures: string[] = [];
    const list = new RevocationList(redis, {
      maxAgeMs: 1000,
      readTimeoutMs: 30,
      onReadFailure: (e) => failures.push(e.message),
    });
    await revokeToken(redis, 'gone', nowS() + 60);
    expect(await list.isRevoked('gone')).toBe(true);
    redis.mode = 'fail';
    clock += 1000;
    expect(await list.isRevoked('gone')).toBe(true);
    expect(await list.isRevoked('other')).toBe(false);
    redis.mode = 'hang';
    clock += 1000;
    expect(await list.isRevoked('gone')).toBe(true);
    expect(failures).toEqual(['connection refused', 'no answer within 30 ms']);
    expect(list.readFailures).toBe(2);
  });

  it('keeps only live revocations: an expired token’s entry is pruned by the next revocation, and never read', async () => {
    const redis = new FakeRedis();
    await revokeToken(redis, 'old', nowS() - 10);
    await revokeToken(redis, 'live', nowS() + 60);
    expect([...(redis.sets.get(REVOKED_TOKENS_KEY)?.keys() ?? [])]).toEqual(['live']);
    const list = new RevocationList(redis, { maxAgeMs: 1000, readTimeoutMs: 100 });
    expect(await list.isRevoked('live')).toBe(true);
    expect(list.size).toBe(1);
  });
});
