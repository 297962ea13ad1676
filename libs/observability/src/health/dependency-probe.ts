/** A check of one real dependency (a query, a PING, a metadata request), run by readiness (see readiness.ts). */
export interface DependencyProbe {
  /** The dependency's name in the readiness report: `postgres`, `redis`, `kafka`, `orders`. */
  readonly name: string;
  check(): Promise<void>;
  close?(): Promise<void>;
}

export interface ProbeResult {
  name: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export const DEPENDENCY_PROBES = Symbol('DEPENDENCY_PROBES');

/**
 * Probes run in parallel, each bounded by `timeoutMs`: a hung dependency makes the service unready quickly instead
 * of hanging the probe (Kubernetes and the lab's supervisor both time out their own calls).
 */
export async function runProbes(probes: DependencyProbe[], timeoutMs: number): Promise<ProbeResult[]> {
  return Promise.all(
    probes.map(async (probe) => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { name: probe.name, ok: true, latencyMs: Date.now() - started };
      } catch (error) {
        return { name: probe.name, ok: false, latencyMs: Date.now() - started, error: (error as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
