import { histogramBuckets, histogramQuantile, quantile, summarize } from './bench-stats';

describe('bench statistics', () => {
  it('takes nearest-rank quantiles of samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
  });

  it('interpolates histogram quantiles from the difference of two scrapes', () => {
    const text = (counts: number[]) =>
      ['0.01', '0.1', '1', '+Inf'].map((le, i) => `lag_seconds_bucket{source="orders",le="${le}"} ${counts[i]}`).join('\n');
    const before = histogramBuckets(text([10, 10, 10, 10]), 'lag_seconds');
    const after = histogramBuckets(text([10, 60, 110, 110]), 'lag_seconds');
    // 100 new observations: 50 in (0.01, 0.1], 50 in (0.1, 1].
    expect(histogramQuantile(before, after, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(before, after, 0.99)).toBeCloseTo(0.1 + 0.9 * (49 / 50));
    expect(histogramQuantile(after, after, 0.5)).toBeNaN();
  });
});
