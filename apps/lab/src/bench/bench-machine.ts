// The machine under the suite: how busy it is right now (so a run starts only once the previous one's tail, the saga
// finishing its orders, Kafka and Postgres writing back, has died down), and how much its own CPU speed drifts, which
// is the floor under every spread the suite reports.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Progress } from '../process/progress';
import { median, spread } from './bench-stats';

/** Busy, stolen and total jiffies of all CPUs since boot (/proc/stat's first line). */
export function cpuTimes(): { busy: number; steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest time is inside user)
  const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, steal: fields[7] ?? 0, total };
}

/**
 * The share of CPU time since `start` the hypervisor gave to other guests (steal): on a shared VM, the neighbours'
 * load, which no figure here can see otherwise. On 2026-11-28 one host showed 13–17% for an hour with the lab idle.
 */
export function stolenSince(start: ReturnType<typeof cpuTimes>, end = cpuTimes()): number {
  const total = end.total - start.total;
  return total <= 0 ? 0 : (end.steal - start.steal) / total;
}

/** The fraction of all CPUs busy over the next `windowMs` (0 idle … 1 saturated). */
export async function cpuBusy(windowMs: number): Promise<number> {
  const before = cpuTimes();
  await sleep(windowMs);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total <= 0 ? 0 : (after.busy - before.busy) / total;
}

/**
 * Awaits the machine settling: CPU below `maxBusy` over a 1 s window. Not an error when it never does (another
 * process may simply be running): the run goes ahead after `timeoutMs`, and the spread will say what it cost.
 */
export async function awaitQuietMachine(
  progress: Progress,
  area: string,
  { maxBusy = 0.25, timeoutMs = 60_000 } = {},
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let busy = await cpuBusy(1000);
  while (busy > maxBusy && performance.now() < deadline) busy = await cpuBusy(1000);
  if (busy > maxBusy)
    progress.done(
      area,
      `the machine stayed busy (${Math.round(busy * 100)}% CPU) for ${timeoutMs / 1000} s; running anyway`,
    );
  return busy;
}

export interface CpuDrift {
  /** Iterations of a fixed loop per window, per window. */
  windows: number[];
  windowMs: number;
  /** Interquartile range / median of those windows: how much the machine's speed alone varies. */
  spread: number;
}

/**
 * The machine's own drift: a fixed single-threaded loop timed in `count` windows of `windowMs`. On a shared VM its
 * speed moves by itself (on the 2-core VM this suite was built on, 22% between 5 s windows with nothing else
 * running), and no figure measured in separate windows can be steadier than that; a same-run ratio can.
 */
export function measureCpuDrift(count = 10, windowMs = 500): CpuDrift {
  const windows: number[] = [];
  let sink = 0;
  for (let w = 0; w < count; w++) {
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < windowMs) {
      for (let i = 0; i < 10_000; i++) sink += i % 7;
      n += 1;
    }
    windows.push(n);
  }
  if (sink < 0) windows.push(0); // keeps the loop from being optimised away
  return { windows, windowMs, spread: spread(windows) };
}

export const describeDrift = (d: CpuDrift): string =>
  `a fixed CPU loop varied by ${(d.spread * 100).toFixed(0)}% (interquartile range / median of ${d.windows.length} × ${d.windowMs / 1000} s windows; median ${Math.round(median(d.windows))} × 10k iterations)`;

/** The Node.js major the lab runs on (package.json engines); `make setup` installs it in .tools/node. */
export const LAB_NODE_MAJOR = 24;

/**
 * The suite measures the lab's services, which run on the Node.js that runs the suite: on another major every figure
 * (memory above all) would describe a runtime the lab does not ship on. Throws naming the fix.
 */
export function assertLabNode(version: string = process.version): void {
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  if (major !== LAB_NODE_MAJOR) {
    throw new Error(
      `the bench measures the lab on Node.js ${LAB_NODE_MAJOR}, and this is ${version}: put .tools/node/bin first on PATH (make setup installs it there)`,
    );
  }
}
