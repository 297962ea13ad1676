import { spawn, SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { waitFor } from './wait-for';

/**
 * The lab stops exactly the processes it started: each one's pid is written to a pid file together with a marker
 * that must appear on its command line, so a pid that the kernel reused for somebody else's process is never
 * signalled.
 */
export interface PidRecord {
  pid: number;
  /** A string that the process's /proc/<pid>/cmdline must contain for the pid to still be ours. */
  marker: string;
  startedAt: string;
}

export function writePidFile(file: string, record: PidRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(record) + '\n');
}

export function readPidFile(file: string): PidRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return Number.isInteger(record.pid) && record.pid > 0 ? record : undefined;
  } catch {
    return undefined;
  }
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/** `/proc/<pid>/stat`'s state letter and flags; throws if the process is gone. */
function readStat(pid: number): { state: string; flags: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in parentheses may itself contain ") ": the fields follow the last one (state first, flags 7th).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', flags: Number(fields[6]) };
}

/**
 * The kernel's one-letter state of `pid` (`/proc/<pid>/stat`: R running, S sleeping, T stopped, Z zombie…); throws if
 * it is gone.
 */
export function processState(pid: number): string {
  return readStat(pid).state;
}

/** A zombie (exited, not yet reaped) or dead process: nothing of it runs any more. */
const hasExited = (state: string) => state === 'Z' || state === 'X';

/** PF_KTHREAD in /proc/<pid>/stat's flags: a kernel thread, whose command line is always empty. */
const PF_KTHREAD = 0x00200000;
/**
 * How long an empty command line is read again, 1 ms apart, before it is believed. A time, not a count: on a loaded
 * machine the exec can be preempted for many milliseconds, and a count of 1 ms naps would end too early.
 */
const EXEC_GRACE_MS = 500;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * The command line of `pid`, arguments joined by spaces. A process inside execve() has an empty one for a moment (the
 * new program's is not set up yet): Postgres started as root runs `setpriv … -- postgres`, and a readiness check that
 * read it in that moment took the process for dead ("exited during start") while Postgres came up fine. So an empty
 * command line of anything but a kernel thread is read again until the exec is over.
 */
function commandLine(pid: number): string {
  const giveUpAt = performance.now() + EXEC_GRACE_MS;
  for (;;) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline !== '' || performance.now() >= giveUpAt) return cmdline.split('\0').join(' ');
    // A kernel thread's is always empty, and so is a process's on its way out: once it is a zombie, the answer is
    // final.
    const { state, flags } = readStat(pid);
    if ((flags & PF_KTHREAD) !== 0 || hasExited(state)) return '';
    Atomics.wait(pause, 0, 0, 1);
  }
}

/** True when `pid` is alive, not a zombie, and (if a marker is given) its command line contains the marker. */
export function isOurs(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    if (hasExited(processState(pid))) return false;
    if (!marker) return true;
    return commandLine(pid).includes(marker);
  } catch {
    // No /proc (macOS): fall back to the signal check above.
    return process.platform !== 'linux';
  }
}

/** The live pid recorded in `file`, or undefined (a stale file is removed). */
export function livePid(file: string): number | undefined {
  const record = readPidFile(file);
  if (!record) return undefined;
  if (isOurs(record.pid, record.marker)) return record.pid;
  removePidFile(file);
  return undefined;
}

export interface DetachedSpawn {
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  marker: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a process that outlives the CLI: its own session, output appended to its log file, pid recorded. */
export function spawnDetached(options: DetachedSpawn): number {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  };
  const child = spawn(options.command, options.args, spawnOptions);
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  child.unref();
  writePidFile(options.pidFile, { pid: child.pid, marker: options.marker, startedAt: new Date().toISOString() });
  return child.pid;
}

/** Sends `signal`, waits for the process to go, and escalates to SIGKILL after `graceMs`. */
export async function stopProcess(
  pid: number,
  marker: string | undefined,
  graceMs = 15000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!isOurs(pid, marker)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  try {
    await waitFor(async () => !isOurs(pid, marker), {
      description: `pid ${pid} to exit`,
      timeoutMs: graceMs,
      intervalMs: 100,
    });
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    await waitFor(async () => !isOurs(pid, marker), {
      description: `pid ${pid} to exit after SIGKILL`,
      timeoutMs: 5000,
      intervalMs: 100,
    });
  }
}

/** Stops the process recorded in `pidFile` (if it is still ours) and forgets it; a no-op when nothing runs. */
export async function stopRecorded(
  pidFile: string,
  marker: string,
  graceMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  const pid = livePid(pidFile);
  if (!pid) return;
  await stopProcess(pid, marker, graceMs, signal);
  removePidFile(pidFile);
}

/** The last lines of a log file, for error messages. */
export function tailFile(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
