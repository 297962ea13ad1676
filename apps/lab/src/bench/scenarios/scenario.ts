import type { BenchLab } from '../bench-lab';
import type { BenchSample } from '../bench-stats';
import type { Progress } from '../../process/progress';

/** How long and how hard each measurement runs: the full profile, or the smoke profile that only proves it works. */
export interface BenchSettings {
  smoke: boolean;
  runs: number;
  /** Every load phase (raw and through the gateway alike). */
  phaseMs: number;
  /** The fixed rate of the open-model phases, orders/s. */
  rate: number;
  /** Workers of the closed-loop (capacity) phases. */
  concurrency: number;
  /** Events queued behind a frozen relay, to measure how fast it drains. */
  relayBacklog: number;
  /** Requests per recommendations measurement (healthy, then stalled). */
  requests: number;
  /** Pages per list-orders measurement (naive, then batched); a naive page is slow, so fewer. */
  pages: number;
  /** Operations per Redis / limiter measurement. */
  redisOps: number;
}

export interface ScenarioContext {
  lab: BenchLab;
  settings: BenchSettings;
  progress: Progress;
}

/**
 * One area of the suite: set up once, measured `runs` times (each run yields every figure of the area together with
 * its baseline, measured in that same run), torn down once.
 */
export interface Scenario {
  area: string;
  setup?(): Promise<void>;
  run(run: number): Promise<BenchSample[]>;
  teardown?(): Promise<void>;
}

export const sampleOf = (area: string) => (id: string, label: string, unit: string, value: number, baselineLabel: string, baseline: number): BenchSample => ({
  area,
  id: `${area}.${id}`,
  label,
  unit,
  value,
  baselineLabel,
  baseline,
});
