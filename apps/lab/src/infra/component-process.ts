import { isOurs, livePid, tailFile } from '../process/pid-file';
import { LabError } from '../process/lab-error';
import { waitFor } from '../process/wait-for';
import { ComponentStatus } from './infra-component';

/** A readiness probe: resolves true when the component answers a real request; may throw while it cannot. */
export type Probe = () => Promise<boolean>;

// A status probe must not make `lab status` hang on a frozen (SIGSTOPped) component: one short try.
const STATUS_PROBE_TIMEOUT_MS = 3000;

export interface AwaitReadyOptions {
  component: string;
  pid: number;
  marker: string;
  logFile: string;
  /** What is awaited, e.g. "Postgres to accept connections". */
  description: string;
  timeoutMs: number;
  probe: Probe;
}

/**
 * Waits until `probe` succeeds. If the process dies meanwhile the wait stops at once and the error carries the end
 * of its log, which almost always says why (port in use, bad config, missing library).
 */
export async function awaitReady(options: AwaitReadyOptions): Promise<void> {
  let died = false;
  try {
    await waitFor(async () => options.probe(), {
      description: options.description,
      timeoutMs: options.timeoutMs,
      intervalMs: 250,
      abortIf: () => {
        if (isOurs(options.pid, options.marker)) return undefined;
        died = true;
        return `the process (pid ${options.pid}) exited`;
      },
    });
  } catch (error) {
    const tail = tailFile(options.logFile);
    const reason = died
      ? `exited during start (pid ${options.pid})`
      : `started (pid ${options.pid}) but not ready: ${(error as Error).message}`;
    throw new LabError(
      options.component,
      tail ? `${reason}; last lines of its log:\n${tail}` : reason,
      options.logFile,
    );
  }
}

/** Races a probe against a timeout; a timeout or an error counts as "not answering". */
export async function probeOnce(
  probe: Probe,
  timeoutMs = STATUS_PROBE_TIMEOUT_MS,
): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const ok = await Promise.race([probe(), timeout]);
    return ok ? { ok } : { ok, error: 'not ready' };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export interface StatusOptions {
  name: string;
  port: number;
  pidFile: string;
  logFile: string;
  url: string;
  probe: Probe;
}

/** running + healthy, unhealthy (our process is alive but does not answer, e.g. frozen), or stopped. */
export async function infraStatus(options: StatusOptions): Promise<ComponentStatus> {
  const pid = livePid(options.pidFile) ?? null;
  const base = {
    name: options.name,
    kind: 'infra' as const,
    port: options.port,
    log: options.logFile,
    url: options.url,
  };
  if (pid === null) return { ...base, state: 'stopped', pid: null, healthy: false };
  const answer = await probeOnce(options.probe);
  return answer.ok
    ? { ...base, state: 'running', pid, healthy: true }
    : { ...base, state: 'unhealthy', pid, healthy: false, detail: answer.error };
}
