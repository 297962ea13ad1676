import fc from 'fast-check';
import { fullJitterDelay } from './backoff';

describe('fullJitterDelay', () => {
  const policy = { baseMs: 25, capMs: 250 };

  it('stays within [0, min(cap, base × 2^retry)) for any random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, r) => {
          const delay = fullJitterDelay(retry, policy, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(policy.capMs, policy.baseMs * 2 ** retry));
        },
      ),
    );
  });

  it('is exponential until the cap', () => {
    const almostOne = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5].map((retry) => fullJitterDelay(retry, policy, almostOne))).toEqual([
      24, 49, 99, 199, 249, 249,
    ]);
    expect(fullJitterDelay(5000, policy, almostOne)).toBe(249);
  });

  it('spreads callers that failed together (seeded): delays are not all equal', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 20 }, () => fullJitterDelay(1, policy, random));
    expect(new Set(delays).size).toBeGreaterThan(10);
  });
});

/** mulberry32: a tiny seeded PRNG, so the jitter tests are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
