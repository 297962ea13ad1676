export type BreakerState = 'closed' | 'half_open' | 'open';

/**
 * Everything a policy decides, for whoever wants to see it besides the metrics. The hook for tracing (issue 5):
 * `short_circuit`, `fallback`, `retry` and `retry_budget_exhausted` are emitted synchronously inside the call that
 * caused them, so a listener can add them as span events to the active span; `breaker_state` is not tied to a request.
 */
export type ResilienceEvent =
  | { type: 'breaker_state'; dependency: string; to: BreakerState }
  | { type: 'short_circuit'; dependency: string }
  | { type: 'fallback'; dependency: string; kind: string }
  | { type: 'retry'; dependency: string; retry: number; delayMs: number }
  | { type: 'retry_budget_exhausted'; dependency: string };

export type ResilienceListener = (event: ResilienceEvent) => void;

/** A tiny synchronous event bus; a throwing listener never breaks the call that emitted. */
export class ResilienceEvents {
  private readonly listeners = new Set<ResilienceListener>();

  /** Returns the unsubscribe function. */
  subscribe(listener: ResilienceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ResilienceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // observers must not change the outcome of a call
      }
    }
  }
}
