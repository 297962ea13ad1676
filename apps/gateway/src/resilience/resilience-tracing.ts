import { spanEvent } from '@faultline/tracing';
import type { ResilienceEvent } from '@faultline/resilience';

/**
 * Turns what a dependency policy decided into span events on the request's active span (the gateway's HTTP span or
 * its gRPC client span), so a trace shows WHY a call was not made, was retried, or answered from a fallback. Breaker
 * state changes belong to no request: they are in metrics and logs only.
 */
export function recordResilienceEventOnSpan(event: ResilienceEvent): void {
  switch (event.type) {
    case 'short_circuit':
      spanEvent('breaker.rejected', { 'peer.service': event.dependency });
      return;
    case 'fallback':
      spanEvent('fallback.used', { 'peer.service': event.dependency, 'fallback.kind': event.kind });
      return;
    case 'retry':
      spanEvent('retry.scheduled', {
        'peer.service': event.dependency,
        'retry.number': event.retry,
        'retry.delay_ms': event.delayMs,
      });
      return;
    case 'retry_budget_exhausted':
      spanEvent('retry.budget_exhausted', { 'peer.service': event.dependency });
      return;
    case 'breaker_state':
      return;
  }
}
