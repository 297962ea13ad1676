// The two ways the suite drives work, shared by every figure and its baseline so both are driven the same way:
// a closed loop (N workers back to back: capacity) and an open model (a fixed schedule whatever the latency: latency
// at a given rate, with a slow answer showing up as latency instead of a lower rate).
import { setTimeout as sleep } from 'node:timers/promises';
import { summarize } from './bench-stats';

export interface LoopResult {
  done: number;
  elapsedMs: number;
  /** Per-operation latencies, ms. */
  latencies: number[];
  perSecond: number;
  p50: number;
  p99: number;
}

function result(latencies: number[], elapsedMs: number): LoopResult {
  const s = summarize(latencies);
  return {
    done: latencies.length,
    elapsedMs,
    latencies,
    perSecond: (latencies.length * 1000) / elapsedMs,
    p50: s.p50,
    p99: s.p99,
  };
}

/** `workers` loops back to back for `durationMs`, or until `limit` operations started. */
export async function closedLoop(
  options: { durationMs?: number; limit?: number; workers: number },
  work: (i: number) => Promise<unknown>,
): Promise<LoopResult> {
  const started = performance.now();
  const latencies: number[] = [];
  let next = 0;
  const more = () =>
    (options.limit === undefined || next < options.limit) &&
    (options.durationMs === undefined || performance.now() - started < options.durationMs);
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (more()) {
        const i = next++;
        const t = performance.now();
        await work(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return result(latencies, performance.now() - started);
}

/** `rate` operations a second for `durationMs`, each started on schedule; latency from its scheduled start. */
export async function openLoop(
  options: { rate: number; durationMs: number },
  work: (i: number) => Promise<unknown>,
): Promise<LoopResult> {
  const started = performance.now();
  const total = Math.max(1, Math.round((options.rate * options.durationMs) / 1000));
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      work(i).then(() => {
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(pending);
  return result(latencies, performance.now() - started);
}

/**
 * Runs `a` and `b` in alternating slices (a, b, a, b …) and merges each side's slices into one result: whatever the
 * machine does during the measurement (its speed drifts, a neighbour wakes up), both sides get their share of it, so
 * their ratio stays true.
 */
export async function interleaved(
  slices: number,
  a: () => Promise<LoopResult>,
  b: () => Promise<LoopResult>,
): Promise<[LoopResult, LoopResult]> {
  const left: LoopResult[] = [];
  const right: LoopResult[] = [];
  for (let i = 0; i < slices; i++) {
    left.push(await a());
    right.push(await b());
  }
  return [merged(left), merged(right)];
}

function merged(parts: LoopResult[]): LoopResult {
  return result(
    parts.flatMap((p) => p.latencies),
    parts.reduce((sum, p) => sum + p.elapsedMs, 0),
  );
}
