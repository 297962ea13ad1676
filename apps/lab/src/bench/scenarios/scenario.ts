import type { BenchLab } from '../bench-lab';
import type { BenchSample } from '../bench-stats';
import type { Progress } from '../../process/progress';

/** How long and how hard each measurement runs: the full profile, or the smoke profile that only proves it works. */
export interface BenchSettings {
  smoke: boolean;
  runs: number;
  /** Every closed-loop (capacity) phase, raw and through the gateway alike. */
  phaseMs: number;
  /** Every open-model (latency at `rate`) phase: long, since a p99 needs hundreds of samples to be stable. */
  fixedMs: number;
  /** The fixed rate of the open-model phases, orders/s. */
  rate: number;
  /** Workers of the closed-loop (capacity) phases. */
  concurrency: number;
  /** Events queued behind a frozen relay, to measure how fast it drains. */
  relayBacklog: number;
  /** Messages the raw producer sends for the drain baseline (a rate: more than the backlog, for a steadier one). */
  rawProducerMessages: number;
  /** Requests during the recommendations stall (the breaker's whole story: deadline, open, fallback). */
  requests: number;
  /** Requests to a healthy recommendations (the baseline; more of them, for its p99). */
  healthyRequests: number;
  /** Pages per list-orders measurement (naive and batched, interleaved). */
  pages: number;
  /** Operations per Redis / limiter measurement. */
  redisOps: number;
}

export interface ScenarioContext {
  lab: BenchLab;
  settings: BenchSettings;
  progress: Progress;
  /** Brings the lab back to a quiet, comparable state inside a run (BenchLab.settle; nothing in the smoke mode). */
  settle(): Promise<void>;
}

/**
 * One area of the suite: set up once, measured `runs` times (each run yields every figure of the area together with
 * its baseline, measured in that same run), torn down once.
 */
export interface Scenario {
  area: string;
  /** false when every run starts from the same cold state anyway (memory restarts the services): no warm-up run. */
  warmUp?: boolean;
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
