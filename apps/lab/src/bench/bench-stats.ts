/** Small, dependency-free statistics for the benchmarks: quantiles of samples and of Prometheus histograms. */

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}

export function summarize(samples: number[]): { count: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Cumulative bucket counts of one histogram (summed over its label sets) from a /metrics text. */
export function histogramBuckets(metricsText: string, name: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/**
 * A quantile of what a histogram observed between two scrapes, interpolated linearly inside the bucket, the way
 * Prometheus' histogram_quantile does. Good to the bucket's resolution, which the report says.
 */
export function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = delta[delta.length - 1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (delta[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      const upper = Number.isFinite(bounds[i]) ? bounds[i] : lower;
      const below = i === 0 ? 0 : delta[i - 1];
      const inBucket = delta[i] - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return bounds[bounds.length - 1];
}

/** The median of samples (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A quantile with linear interpolation between ranks (the usual definition for quartiles of a few runs). */
function interpolated(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/**
 * How much repeated runs disagree: the interquartile range over the median. With five runs that ignores the best and
 * the worst run, so one hiccup does not refuse a whole suite, while two do. 0 when every run agrees exactly; infinite
 * when the median is 0 but runs differ.
 */
export function spread(samples: readonly number[]): number {
  if (samples.length < 2) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const iqr = interpolated(sorted, 0.75) - interpolated(sorted, 0.25);
  const mid = Math.abs(median(sorted));
  if (iqr === 0) return 0;
  return mid === 0 ? Number.POSITIVE_INFINITY : iqr / mid;
}

/** One figure of one run, next to the baseline measured in that same run. */
export interface BenchSample {
  area: string;
  /** Stable id across runs and days, e.g. `orders.gateway-rate`. */
  id: string;
  label: string;
  unit: string;
  baselineLabel: string;
  value: number;
  baseline: number;
  /**
   * What sets the value, when it is not the machine's speed (e.g. a configured deadline): such a figure is judged on
   * its value's spread like a ratio's, since a bound over a machine-bound baseline makes a ratio that moves with the
   * baseline alone. Its ratio is printed, not judged.
   */
  boundBy?: string;
}

export interface Aggregate {
  runs: number[];
  median: number;
  /** interquartile range / median, see spread(). */
  spread: number;
  min: number;
  max: number;
}

export interface BenchFigure {
  area: string;
  id: string;
  label: string;
  unit: string;
  value: Aggregate;
  baseline: Aggregate & { label: string };
  /** value / baseline per run (both from the same run), then the median of those ratios. */
  ratio: Aggregate;
  /** Set for a figure whose value a configuration bounds (BenchSample.boundBy): judged on its value, not its ratio. */
  boundBy?: string;
}

function aggregate(runs: number[]): Aggregate {
  return { runs, median: median(runs), spread: spread(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

/** Groups the samples of every run by figure id (first-seen order) into medians, spreads and same-run ratios. */
export function aggregateFigures(samples: readonly BenchSample[]): BenchFigure[] {
  const byId = new Map<string, BenchSample[]>();
  for (const s of samples) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  return [...byId.values()].map((runs) => {
    const first = runs[0];
    return {
      area: first.area,
      id: first.id,
      label: first.label,
      unit: first.unit,
      value: aggregate(runs.map((r) => r.value)),
      baseline: { label: first.baselineLabel, ...aggregate(runs.map((r) => r.baseline)) },
      ratio: aggregate(runs.map((r) => r.value / r.baseline)),
      ...(first.boundBy === undefined ? {} : { boundBy: first.boundBy }),
    };
  });
}

/**
 * The noise rule. Every figure claims a ratio to a baseline measured in the same run, so the ratio is what repeated
 * runs must agree on: a figure is refused when its ratio spreads more than `maxSpread` over the runs. Its value and
 * its baseline alone move with the machine (on a shared VM the CPU's own speed drifts by about 20% from one window of
 * seconds to the next, see bench-machine.ts), and the same-run ratio cancels that drift; but not without bound: either
 * spreading more than twice `maxSpread` also refuses (the runs no longer measured the same thing). Any run that
 * measured nothing refuses. A figure bounded by a configuration (boundBy) is judged on its value instead of its ratio.
 * Returns one line per refused figure, empty when the suite may report.
 */
export function noisyFigures(figures: readonly BenchFigure[], maxSpread: number): string[] {
  const noisy: string[] = [];
  const driftBound = 2 * maxSpread;
  for (const f of figures) {
    const reasons: string[] = [];
    if (![...f.value.runs, ...f.baseline.runs].every(Number.isFinite)) reasons.push('a run measured nothing');
    else {
      if (f.boundBy !== undefined) {
        if (f.value.spread > maxSpread)
          reasons.push(`value spread ${percent(f.value.spread)} > ${percent(maxSpread)} (bound by ${f.boundBy})`);
      } else {
        if (f.ratio.spread > maxSpread) reasons.push(`ratio spread ${percent(f.ratio.spread)} > ${percent(maxSpread)}`);
        if (f.value.spread > driftBound)
          reasons.push(`value spread ${percent(f.value.spread)} > ${percent(driftBound)}`);
      }
      if (f.baseline.spread > driftBound)
        reasons.push(`baseline spread ${percent(f.baseline.spread)} > ${percent(driftBound)}`);
    }
    if (reasons.length > 0) noisy.push(`${f.id} (${f.label}): ${reasons.join(', ')}`);
  }
  return noisy;
}

export const percent = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%` : '∞');
