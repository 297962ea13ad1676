import { backoffDelay, DEFAULT_BACKOFF } from './backoff';

describe('backoffDelay (exponential, full jitter)', () => {
  it('doubles the ceiling per attempt from initialMs and caps it at maxMs', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7, 10, 100].map((attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, top))).toEqual([
      99, 199, 399, 799, 1599, 3199, 4999, 4999, 4999,
    ]);
  });
  it('is uniform from zero (full jitter), never negative', () => {
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(200);
    for (let i = 0; i < 1000; i += 1) {
      const delay = backoffDelay(1 + (i % 12));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(DEFAULT_BACKOFF.maxMs);
    }
  });
});
