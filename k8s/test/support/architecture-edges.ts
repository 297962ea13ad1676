/**
 * The real calls of the architecture (docs/architecture.md, "Services and data ownership" and "Observability"),
 * written once. Each is [caller, callee, the callee's container port name]; `external` is anything outside the
 * namespace (the host through kind's NodePorts). NetworkPolicies must allow exactly these pod-to-pod edges, and
 * nothing else.
 */
export type Edge = readonly [from: string, to: string, port: string];

const APPS = [
  'gateway',
  'orders',
  'inventory',
  'recommendations',
  'notifications',
  'outbox-relay-orders',
  'outbox-relay-inventory',
];

export const ARCHITECTURE_EDGES: Edge[] = [
  // The public REST surface.
  ['external', 'gateway', 'http'],
  // gateway → every internal gRPC service (REST routes; on the local target its readiness also asks their gRPC health).
  ['gateway', 'orders', 'grpc'],
  ['gateway', 'inventory', 'grpc'],
  ['gateway', 'recommendations', 'grpc'],
  ['gateway', 'notifications', 'grpc'],
  // (orders and inventory meet only through events: no orders → inventory gRPC edge, so no policy allows one.)
  // Redis: the gateway's rate limiter, recommendations' popularity scores.
  ['gateway', 'redis', 'redis'],
  ['recommendations', 'redis', 'redis'],
  // Database per service on one Postgres; each relay reads its source database's WAL.
  ...['orders', 'inventory', 'notifications', 'outbox-relay-orders', 'outbox-relay-inventory'].map((a): Edge => [
    a,
    'postgres',
    'postgres',
  ]),
  // Kafka: relays publish, services consume; the topics Job creates topics.
  ...[
    'orders',
    'inventory',
    'recommendations',
    'notifications',
    'outbox-relay-orders',
    'outbox-relay-inventory',
    'kafka-topics',
  ].map((a): Edge => [a, 'kafka', 'kafka']),
  // Traces: every service → collector (OTLP gRPC or HTTP) → Jaeger.
  ...APPS.flatMap((a): Edge[] => [
    [a, 'otel-collector', 'otlp-grpc'],
    [a, 'otel-collector', 'otlp-http'],
  ]),
  ['otel-collector', 'jaeger', 'otlp-grpc'],
  // Metrics: Prometheus scrapes every service and the collector; Grafana queries Prometheus and Jaeger.
  ...APPS.map((a): Edge => ['prometheus', a, 'http']),
  ['prometheus', 'otel-collector', 'metrics'],
  ['grafana', 'prometheus', 'web'],
  ['grafana', 'jaeger', 'ui'],
  // What the user opens on localhost.
  ['external', 'grafana', 'http'],
  ['external', 'jaeger', 'ui'],
  ['external', 'prometheus', 'web'],
];
