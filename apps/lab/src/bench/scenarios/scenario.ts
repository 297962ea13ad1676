import type { BenchLab } from '../bench-lab';
import type { BenchSample } from '../bench-stats';
import type { Progress } from '../../process/progress';

/** How long and how hard each measurement runs: the full profile, or the smoke profile that only proves it works. */
export interface BenchSettings {
  smoke: boolean;
  /** The quick profile (`--quick`): every figure and the noise rule, on shorter phases and 3 runs. */
  quick?: boolean;
  runs: number;
  /**
   * Every closed-loop (capacity) phase, raw and through the gateway alike. The saga works behind the gateway's phase
   * and takes a share of the 2 cores that varies: over 8 s the gateway's rate moved between 49.5 and 62 orders/s from
   * run to run (ratio spread 22%), hence 20 s.
   */
  phaseMs: number;
  /**
   * The relay lag's latency phase at `rate` (open model): long, since a p99 needs thousands of samples. Over 75 s
   * (1,500 a side) the relay lag's p99 ratio spread 17-24% between runs; over 150 s, 2.2%.
   */
  fixedMs: number;
  /**
   * The orders latency phase at `rate` (open model, raw and gateway side by side). The gateway's p99 is made of the
   * machine's pauses along three processes and Postgres: over 75 s the raw p99 alone spread 21-30% between runs; over
   * 150 s (3,000 requests a side) the gateway's p99 spread 51% in a full run of 2026-11-28 and 45% in the next one's
   * orders area (its ratio 29% and 17%), hence 300 s.
   */
  ordersFixedMs: number;
  /** How long the memory area samples RSS, and the cpu area reads CPU, under the order load at `rate`. */
  loadMs: number;
  /** How long the cpu area reads the idle lab's CPU. */
  idleMs: number;
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
  /**
   * Requests to a healthy recommendations (the baseline), at the area's rate: many, since its p99 is made of the
   * machine's pauses (100-160 ms, every request queued behind one ends late), and 2,000 (20 s) held one or two of them.
   * Over 60 s (6,000) it still spread 61% and 51% in the two full runs of 2026-11-28 and 2026-12-01 and refused both,
   * hence 120 s.
   */
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

export const sampleOf =
  (area: string) =>
  (
    id: string,
    label: string,
    unit: string,
    value: number,
    baselineLabel: string,
    baseline: number,
    boundBy?: string,
  ): BenchSample => ({
    area,
    id: `${area}.${id}`,
    label,
    unit,
    value,
    baselineLabel,
    baseline,
    ...(boundBy === undefined ? {} : { boundBy }),
  });
