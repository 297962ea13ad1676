// What the lab asks Prometheus and how it reads the answers, on either target: the local lab's Prometheus over HTTP,
// the in-cluster one through the API server (kind/prometheus.ts). The PromQL lives here once; tests read these strings.
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant-query answer as samples; a Prometheus error (bad PromQL, timeout) throws with Prometheus' own words. */
export function parseQueryResponse(body: string): Sample[] {
  const answer = JSON.parse(body) as {
    status: 'success' | 'error';
    error?: string;
    errorType?: string;
    data?: { resultType: string; result: unknown };
  };
  if (answer.status !== 'success')
    throw new Error(`Prometheus: ${answer.errorType ?? 'error'}: ${answer.error ?? 'no message'}`);
  const data = answer.data;
  if (!data) throw new Error('Prometheus answered without data');
  switch (data.resultType) {
    case 'vector':
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
        metric: s.metric,
        value: Number(s.value[1]),
      }));
    case 'scalar':
      return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
    default:
      throw new Error(`Prometheus answered a ${data.resultType}; the lab asks instant vector or scalar queries`);
  }
}

/** One number out of a query that aggregates to one series; undefined when there is no series (nothing scraped yet). */
export const single = (samples: Sample[]): number | undefined =>
  samples.length === 0 ? undefined : samples.reduce((sum, s) => sum + s.value, 0);

/** A range selector covering the run so far, for `increase(x[<range>])`: at least 1m, so a 5 s scrape has samples. */
export const rangeSince = (startedAtMs: number, nowMs: number) =>
  `${Math.max(60, Math.ceil((nowMs - startedAtMs) / 1000) + 15)}s`;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** The PromQL the kind driver asks, one place: tests read these exact strings. */
export const QUERIES = {
  /** Convergence: orders waiting for their outcome, oldest unrelayed outbox row, consumer lag. */
  pendingOrders: () => 'sum(orders_by_status{status="PENDING"})',
  outboxBacklogAge: () => 'max(outbox_oldest_pending_age_seconds)',
  consumerLag: () => 'sum(kafka_consumer_lag_messages)',
  relayLagP99: () => 'max(source:outbox_relay_lag_seconds:p99_1m)',
  breakerOpened: (dependency: string, range: string) =>
    `sum(increase(circuit_breaker_transitions_total{dependency="${esc(dependency)}",to="open"}[${range}]))`,
  breakerMaxState: (dependency: string, range: string) =>
    `max(max_over_time(circuit_breaker_state{dependency="${esc(dependency)}"}[${range}]))`,
  /** 1 if the alert was firing at some point of the range (its ALERTS series), no series if it never was. */
  alertFired: (alert: string, range: string) =>
    `max(max_over_time(ALERTS{alertname="${esc(alert)}",alertstate="firing"}[${range}]))`,
  /** The highest value a metric had over the range: whether Prometheus had the series an alert reads at all. */
  maxOver: (metric: string, range: string) => `max(max_over_time(${metric}[${range}]))`,
  dlqMessages: (originalTopic: string, range: string) =>
    `sum(increase(consumer_dlq_messages_total{topic="${esc(originalTopic)}"}[${range}]))`,
  /** The gateway's own view of a route (route template as Express names it), for the report beside the client's. */
  routeErrorRatio: (route: string, range: string) => {
    const { method, path } = splitRoute(route);
    const sel = `service="gateway",method="${esc(method)}",route="${esc(path)}"`;
    return `sum(increase(http_server_requests_total{${sel},status_class="5xx"}[${range}])) / sum(increase(http_server_requests_total{${sel}}[${range}]))`;
  },
  routeP99: (route: string, range: string) => {
    const { method, path } = splitRoute(route);
    return `histogram_quantile(0.99, sum by (le) (increase(http_server_request_duration_seconds_bucket{service="gateway",method="${esc(method)}",route="${esc(path)}"}[${range}])))`;
  },
};

/** `GET /v1/products/:sku` → GET and the Express route template `/v1/products/:sku`. */
export function splitRoute(route: string): { method: string; path: string } {
  const [method, path] = route.split(' ');
  return { method: method ?? '', path: path ?? '' };
}
