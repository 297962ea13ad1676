// Trace assertions of verdicts, on the spans the lab's trace store keeps (<state>/traces, `lab trace`): pure
// functions over stored spans, so a unit test can break each condition on fixtures; checks.ts feeds them the run's
// spans once they have arrived (services export in batches, a few seconds after the fact).
import type { StoredSpan } from '../tracing/otlp-receiver';
import { tracesOfOrder } from '../tracing/span-tree';

const ms = (nano: string) => Number(BigInt(nano) / 1_000_000n);

export interface OpenPeriod {
  /** Epoch ms: when the first short-circuited request of a run was rejected at the latest, and when the last began. */
  from: number;
  to: number;
  requests: number;
}

export interface BreakerTraceFinding {
  /** The gateway's server spans of the route in the window. */
  requests: number;
  /** Of them, those whose trace holds a `breaker.rejected` event for the dependency (the breaker was open). */
  rejected: number;
  periods: OpenPeriod[];
  /** gRPC client spans from the gateway to the dependency that STARTED while the breaker was open. */
  callsWhileOpen: StoredSpan[];
  /** Calls to the dependency outside the open periods (before it opened, half-open trials, after it closed). */
  callsOutside: number;
}

/**
 * "While the breaker was open, no span reached <dependency>". The open periods are read from the traces: maximal
 * runs of consecutive requests (by start time) whose trace carries `breaker.rejected`; a half-open trial is a request
 * that was let through, so it ends a run. Inside a run nothing may call the dependency: no retry, no prefetch, no
 * fallback that asks the dependency after all, no breaker that lets calls slip. Stored span events carry no time, so
 * a run starts at its first request's start, or after that request's own calls if it made any (the call whose failure
 * opened the breaker), and ends at its last request's start (a trial that began while that request was being served
 * still begins after it). Client spans are what counts, not the dependency's server spans: with 2 s on the wire, a
 * call made before the breaker opened reaches the dependency 2 s later, inside the period, and is no breach.
 */
export function breakerOpenTraces(
  spans: readonly StoredSpan[],
  options: { gatewayService: string; route: string; dependency: string; from: number; to: number },
): BreakerTraceFinding {
  const { gatewayService, route, dependency, from, to } = options;
  const requests = spans
    .filter((s) => s.service === gatewayService && s.kind === 2 && s.attributes['http.route'] === route)
    .filter((s) => ms(s.startUnixNano) >= from && ms(s.startUnixNano) <= to)
    .sort((a, b) => ms(a.startUnixNano) - ms(b.startUnixNano));
  const rejectedTraces = new Set(
    spans
      .filter(
        (s) =>
          s.service === gatewayService &&
          s.events.some((e) => e.name === 'breaker.rejected' && e.attributes['peer.service'] === dependency),
      )
      .map((s) => s.traceId),
  );
  const isCall = (s: StoredSpan) =>
    s.service === gatewayService &&
    s.kind === 3 &&
    String(s.attributes['rpc.service'] ?? '').includes(`.${dependency}.`);
  const calls = spans.filter(isCall);
  const periods: OpenPeriod[] = [];
  let current: OpenPeriod | undefined;
  for (const request of requests) {
    if (!rejectedTraces.has(request.traceId)) {
      current = undefined;
      continue;
    }
    if (!current) {
      const ownCallsEnd = calls.filter((c) => c.traceId === request.traceId).map((c) => ms(c.endUnixNano));
      current = {
        from: Math.max(ms(request.startUnixNano), ...ownCallsEnd),
        to: ms(request.startUnixNano),
        requests: 0,
      };
      periods.push(current);
    }
    current.to = Math.max(current.to, ms(request.startUnixNano));
    current.requests += 1;
  }
  const inWindow = calls.filter((s) => ms(s.startUnixNano) >= from && ms(s.startUnixNano) <= to);
  const inside = (s: StoredSpan) => periods.some((p) => ms(s.startUnixNano) > p.from && ms(s.startUnixNano) < p.to);
  return {
    requests: requests.length,
    rejected: requests.filter((r) => rejectedTraces.has(r.traceId)).length,
    periods,
    callsWhileOpen: inWindow.filter(inside),
    callsOutside: inWindow.filter((s) => !inside(s)).length,
  };
}

export interface OrderTraceFinding {
  orderId: string;
  traces: number;
  services: string[];
  missing: string[];
}

/**
 * "The order's trace continues through <services>": each order is ONE trace (found by the `order.id` attribute) that
 * holds a span of every listed service. An order whose context was dropped somewhere (the relay resumed without the
 * outbox row's traceparent, a consumer started a new trace) shows up as a missing hop or as two traces.
 */
export function orderTraceHops(
  spans: readonly StoredSpan[],
  orderIds: readonly string[],
  services: readonly string[],
): OrderTraceFinding[] {
  const byTrace = new Map<string, Set<string>>();
  for (const s of spans) byTrace.set(s.traceId, (byTrace.get(s.traceId) ?? new Set()).add(s.service));
  return orderIds.map((orderId) => {
    const traces = tracesOfOrder(spans, orderId);
    const seen = new Set(traces.flatMap((t) => [...(byTrace.get(t) ?? [])]));
    const missing = traces.length === 1 ? services.filter((s) => !seen.has(s)) : [...services];
    return { orderId, traces: traces.length, services: [...seen].sort(), missing };
  });
}

export const traceIsBroken = (f: OrderTraceFinding) => f.traces !== 1 || f.missing.length > 0;
