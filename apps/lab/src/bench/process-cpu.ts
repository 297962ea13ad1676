// CPU time of a process and everything under it, from /proc: what a lab component costs, whatever its threads and
// worker processes (Postgres' backends, a JVM's threads, a shell's exec'd child) do.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** utime, stime, cutime and cstime of one /proc/<pid>/stat line (fields 14–17), and its parent (field 4), in ticks. */
export function parseStat(line: string): { ppid: number; ticks: number } {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself: split after the last ')'.
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3].
  const [ppid, utime, stime, cutime, cstime] = [fields[1], fields[11], fields[12], fields[13], fields[14]].map(Number);
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite))
    throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  return { ppid, ticks: utime + stime + cutime + cstime };
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (USER_HZ, 100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/**
 * CPU milliseconds of each root process and its live descendants, in one pass over /proc. A child that exited is
 * counted once its parent reaped it (cutime/cstime): Postgres' postmaster reaps its backends, so a backend's CPU is
 * never lost, only moved. A root under another root is left out of the other's sum. A root that is gone counts NaN.
 */
export function treeCpuMs(roots: Record<string, number>): Record<string, number> {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.set(Number(entry), parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // Exited between the listing and the read.
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const msPerTick = 1000 / clockTicksPerSecond();
  const rootPids = new Set(Object.values(roots));
  const result: Record<string, number> = {};
  for (const [name, root] of Object.entries(roots)) {
    if (!stats.has(root)) {
      result[name] = Number.NaN;
      continue;
    }
    let ticks = 0;
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.pop() as number;
      ticks += stats.get(pid)?.ticks ?? 0;
      // Another root under this one (the services under the supervisor) is counted as itself, not twice.
      queue.push(...(children.get(pid) ?? []).filter((child) => !rootPids.has(child)));
    }
    result[name] = ticks * msPerTick;
  }
  return result;
}
