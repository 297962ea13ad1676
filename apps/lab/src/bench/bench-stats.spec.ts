import {
  aggregateFigures,
  BenchSample,
  histogramBuckets,
  histogramQuantile,
  median,
  noisyFigures,
  quantile,
  spread,
  summarize,
} from './bench-stats';

describe('bench statistics', () => {
  it('takes nearest-rank quantiles of samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
  });

  it('interpolates histogram quantiles from the difference of two scrapes', () => {
    const text = (counts: number[]) =>
      ['0.01', '0.1', '1', '+Inf']
        .map((le, i) => `lag_seconds_bucket{source="orders",le="${le}"} ${counts[i]}`)
        .join('\n');
    const before = histogramBuckets(text([10, 10, 10, 10]), 'lag_seconds');
    const after = histogramBuckets(text([10, 60, 110, 110]), 'lag_seconds');
    // 100 new observations: 50 in (0.01, 0.1], 50 in (0.1, 1].
    expect(histogramQuantile(before, after, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(before, after, 0.99)).toBeCloseTo(0.1 + 0.9 * (49 / 50));
    expect(histogramQuantile(after, after, 0.5)).toBeNaN();
  });
});

describe('medians, spreads and the noise rule', () => {
  const sample = (id: string, value: number, baseline: number): BenchSample => ({
    area: 'a',
    id,
    label: id,
    unit: 'x/s',
    baselineLabel: 'raw',
    value,
    baseline,
  });

  it('takes medians and interquartile spreads', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    // Quartiles of 5 runs: the 2nd and 4th values, so the best and worst runs do not count.
    expect(spread([100, 1, 98, 102, 1000])).toBeCloseTo((102 - 98) / 100);
    expect(spread([7, 7, 7])).toBe(0);
    expect(spread([42])).toBe(0);
    expect(spread([0, 0, 1, 1, 1])).toBe(1);
    expect(spread([-1, 0, 0, 0, 1])).toBe(0);
  });

  it('pairs each value with the baseline of the same run', () => {
    const [figure] = aggregateFigures([sample('f', 50, 100), sample('f', 60, 200), sample('f', 70, 100)]);
    expect(figure.value.median).toBe(60);
    expect(figure.baseline.median).toBe(100);
    // Per-run ratios 0.5, 0.3, 0.7: the median of those, not 60 / 100.
    expect(figure.ratio.runs).toEqual([0.5, 0.3, 0.7]);
    expect(figure.ratio.median).toBe(0.5);
  });

  it('reports quiet runs and refuses noisy ones, naming the figure', () => {
    const quiet = aggregateFigures([100, 101, 99, 102, 98].map((v) => sample('quiet', v, 50 + v / 100)));
    expect(noisyFigures(quiet, 0.2)).toEqual([]);
    const noisy = aggregateFigures([
      // The baseline stays put while the value moves: the ratio moves as much as the value.
      ...[100, 60, 140, 90, 180].map((v) => sample('orders.rate', v, 500)),
      ...[1, 1, 1].map(() => sample('broken', Number.NaN, 1)),
    ]);
    const refused = noisyFigures(noisy, 0.2);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/^orders\.rate .*ratio spread 50% > 20%, value spread 50% > 40%/);
    expect(refused[1]).toMatch(/^broken .*a run measured nothing/);
  });

  it('forgives drift of the machine that the same-run ratio cancels, within twice the threshold', () => {
    // Value and baseline both 30% apart from run to run, always in the ratio 1:5 (the machine sped up and slowed down).
    const drift = [100, 70, 130, 85, 115];
    expect(noisyFigures(aggregateFigures(drift.map((v) => sample('drift', v, 5 * v))), 0.2)).toEqual([]);
    // Beyond twice the threshold the runs are not comparable any more, however steady the ratio.
    const wild = [100, 40, 160, 60, 140];
    expect(noisyFigures(aggregateFigures(wild.map((v) => sample('wild', v, 5 * v))), 0.2)[0]).toMatch(
      /^wild .*value spread 80% > 40%, baseline spread 80% > 40%$/,
    );
    // A steady value against a noisy baseline is a noisy ratio.
    expect(noisyFigures(aggregateFigures([1, 2, 3, 4, 5].map((b) => sample('base', 10, b))), 0.2)[0]).toMatch(
      /ratio spread .*, baseline spread 67% > 40%/,
    );
  });

  it('judges a figure bounded by a configuration on its value, not on its ratio', () => {
    const bounded = (id: string, value: number, baseline: number): BenchSample => ({
      ...sample(id, value, baseline),
      boundBy: 'a 300 ms deadline',
    });
    // A steady bound over a baseline that moves with the machine (within 40%): the ratio spreads 33%, the value 2%.
    const steady = aggregateFigures(
      [300, 306, 310, 303, 312].map((v, i) => bounded('stall', v, [30, 20, 25, 18, 28][i])),
    );
    expect(steady[0].ratio.spread).toBeGreaterThan(0.2);
    expect(steady[0].boundBy).toBe('a 300 ms deadline');
    expect(noisyFigures(steady, 0.2)).toEqual([]);
    // The same ratios without the bound refuse; a bounded value that moves refuses too, and says why.
    expect(
      noisyFigures(
        aggregateFigures([300, 306, 310, 303, 312].map((v, i) => sample('stall', v, [30, 20, 25, 18, 28][i]))),
        0.2,
      )[0],
    ).toMatch(/ratio spread/);
    expect(noisyFigures(aggregateFigures([300, 450, 310, 600, 320].map((v) => bounded('moving', v, 20))), 0.2)).toEqual(
      ['moving (moving): value spread 44% > 20% (bound by a 300 ms deadline)'],
    );
  });
});
