import { admits, decide, rateLimitHeaders, type BucketState, type TokenTaker } from './index';

const state = (over: Partial<BucketState> = {}): BucketState => ({
  allowed: true,
  limit: 10,
  remaining: 7,
  resetSeconds: 3,
  retryAfterSeconds: 0,
  ...over,
});
const answering = (s: BucketState): TokenTaker => ({ take: async () => s });
const failing: TokenTaker = { take: async () => Promise.reject(new Error('Command timed out')) };
const limit = { capacity: 10, refillPerSecond: 1 };

describe('decide', () => {
  it('passes the bucket answer through as allowed or limited', async () => {
    await expect(decide(answering(state()), 'k', limit, 'fail-closed')).resolves.toEqual({
      kind: 'allowed',
      state: state(),
    });
    const refused = state({ allowed: false, remaining: 0, retryAfterSeconds: 2 });
    await expect(decide(answering(refused), 'k', limit, 'fail-open')).resolves.toEqual({
      kind: 'limited',
      state: refused,
    });
  });

  it('turns a limiter failure into the route policy, never an exception', async () => {
    await expect(decide(failing, 'k', limit, 'fail-open')).resolves.toMatchObject({ kind: 'fail_open' });
    await expect(decide(failing, 'k', limit, 'fail-closed')).resolves.toMatchObject({ kind: 'fail_closed' });
  });

  it('admits allowed and fail_open only', () => {
    expect(admits({ kind: 'allowed', state: state() })).toBe(true);
    expect(admits({ kind: 'fail_open', error: null })).toBe(true);
    expect(admits({ kind: 'limited', state: state({ allowed: false }) })).toBe(false);
    expect(admits({ kind: 'fail_closed', error: null })).toBe(false);
  });
});

describe('rateLimitHeaders', () => {
  it('formats the bucket answer, with no Retry-After when allowed', () => {
    expect(rateLimitHeaders(state())).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '7',
      'RateLimit-Reset': '3',
    });
  });

  it('adds Retry-After (whole seconds, at least 1) when refused', () => {
    expect(rateLimitHeaders(state({ allowed: false, remaining: 0, resetSeconds: 10, retryAfterSeconds: 4 }))).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '10',
      'Retry-After': '4',
    });
    expect(rateLimitHeaders(state({ allowed: false, retryAfterSeconds: 0 }))['Retry-After']).toBe('1');
  });
});
