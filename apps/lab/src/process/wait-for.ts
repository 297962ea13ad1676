export interface WaitOptions {
  /** What is awaited, for the error message. */
  description: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; throwing aborts the wait (e.g. the process being waited on has died). */
  abortIf?: () => string | undefined;
}

/**
 * Polls `condition` until it returns a truthy value or the time runs out. This is how the lab waits on readiness:
 * a real query, a PING or a metadata request, never a fixed sleep.
 */
export async function waitFor<T>(condition: () => Promise<T | undefined | false>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    const abort = options.abortIf?.();
    if (abort) throw new Error(`${options.description}: ${abort}`);
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
