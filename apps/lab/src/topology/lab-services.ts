import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import { tracingEnv } from '../tracing/trace-store';

/**
 * The lab's services as the supervisor runs them on the local target: one process each, like one pod each, with
 * the environment a Kubernetes Deployment would give it. The outbox relay runs once per source database.
 */
export interface ServiceSpec {
  /** The component name users see in `lab status` and `lab logs`. */
  name: string;
  /** The Nx app it runs (apps/<app>). */
  app: string;
  httpPort: number;
  grpcPort?: number;
  env: Record<string, string>;
  /** A URL worth printing for the user. */
  url?: string;
}

/** Per-service environment overrides, from `lab up --set <service>.<VAR>=<value>` (a naive variant, a limit). */
export type ServiceOverrides = Record<string, Record<string, string>>;

/** Parses `--set` values (`gateway.RECS_FALLBACK=naive`) into overrides; throws on a malformed one. */
export function parseServiceOverrides(values: readonly string[]): ServiceOverrides {
  const overrides: ServiceOverrides = {};
  for (const value of values) {
    const match = /^([a-z][a-z0-9-]*)\.([A-Z][A-Z0-9_]*)=(.*)$/s.exec(value);
    if (!match)
      throw new Error(
        `--set ${JSON.stringify(value)} is not <service>.<VARIABLE>=<value> (e.g. gateway.RECS_FALLBACK=naive)`,
      );
    const [, service, variable, setting] = match;
    overrides[service] = { ...overrides[service], [variable]: setting };
  }
  return overrides;
}

export interface InfraEndpoints {
  postgresUrl: (database: string) => string;
  redisUrl: string;
  kafkaBrokers: string[];
}

export function jwtPublicKeyFile(layout: LabLayout): string {
  return join(layout.secretsDir, 'jwt-public.pem');
}

export function jwtPrivateKeyFile(layout: LabLayout): string {
  return join(layout.secretsDir, 'jwt-private.pem');
}

export const JWT_ISSUER = 'faultline-lab';
export const JWT_AUDIENCE = 'faultline-api';

export function labServices(layout: LabLayout, infra: InfraEndpoints): ServiceSpec[] {
  const p = layout.ports;
  const kafka = infra.kafkaBrokers.join(',');
  const grpc = (port: number) => `127.0.0.1:${port}`;
  const services: ServiceSpec[] = [
    {
      name: 'orders',
      app: 'orders',
      httpPort: p.ordersHttp,
      grpcPort: p.ordersGrpc,
      env: {
        HTTP_PORT: `${p.ordersHttp}`,
        GRPC_PORT: `${p.ordersGrpc}`,
        DATABASE_URL: infra.postgresUrl('orders'),
        KAFKA_BROKERS: kafka,
      },
    },
    {
      name: 'inventory',
      app: 'inventory',
      httpPort: p.inventoryHttp,
      grpcPort: p.inventoryGrpc,
      env: {
        HTTP_PORT: `${p.inventoryHttp}`,
        GRPC_PORT: `${p.inventoryGrpc}`,
        DATABASE_URL: infra.postgresUrl('inventory'),
        KAFKA_BROKERS: kafka,
      },
    },
    {
      name: 'recommendations',
      app: 'recommendations',
      httpPort: p.recommendationsHttp,
      grpcPort: p.recommendationsGrpc,
      env: {
        HTTP_PORT: `${p.recommendationsHttp}`,
        GRPC_PORT: `${p.recommendationsGrpc}`,
        REDIS_URL: infra.redisUrl,
        KAFKA_BROKERS: kafka,
      },
    },
    {
      name: 'notifications',
      app: 'notifications',
      httpPort: p.notificationsHttp,
      grpcPort: p.notificationsGrpc,
      env: {
        HTTP_PORT: `${p.notificationsHttp}`,
        GRPC_PORT: `${p.notificationsGrpc}`,
        DATABASE_URL: infra.postgresUrl('notifications'),
        KAFKA_BROKERS: kafka,
      },
    },
    ...(['orders', 'inventory'] as const).map((source) => ({
      name: `outbox-relay-${source}`,
      app: 'outbox-relay',
      httpPort: source === 'orders' ? p.relayOrdersHttp : p.relayInventoryHttp,
      env: {
        HTTP_PORT: `${source === 'orders' ? p.relayOrdersHttp : p.relayInventoryHttp}`,
        RELAY_SOURCE: source,
        DATABASE_URL: infra.postgresUrl(source),
        KAFKA_BROKERS: kafka,
      },
    })),
    {
      name: 'gateway',
      app: 'gateway',
      httpPort: p.gateway,
      url: `http://127.0.0.1:${p.gateway}`,
      env: {
        HTTP_PORT: `${p.gateway}`,
        REDIS_URL: infra.redisUrl,
        ORDERS_GRPC_ADDRESS: grpc(p.ordersGrpc),
        INVENTORY_GRPC_ADDRESS: grpc(p.inventoryGrpc),
        RECOMMENDATIONS_GRPC_ADDRESS: grpc(p.recommendationsGrpc),
        NOTIFICATIONS_GRPC_ADDRESS: grpc(p.notificationsGrpc),
        JWT_PUBLIC_KEY_FILE: jwtPublicKeyFile(layout),
        JWT_ISSUER,
        JWT_AUDIENCE,
        // What the order pipeline settles on 2 cores (37 to 79 orders/s end to end in the bench, by host): admitting
        // more only queues saga work that starves every process here, the gateway and its callers included.
        SHED_MAX_WRITES_PER_S: '25',
        SHED_WRITES_BURST: '50',
      },
    },
  ];
  // Every service exports its spans to the supervisor's trace store (`lab trace`); LAB_TRACES=off turns it off.
  // Readiness includes the dependencies here: `lab up` and `lab status` read /readyz to know the lab is connected.
  // Loopback only: the lab's services are for this machine (README: every URL is 127.0.0.1); nothing on the network
  // can reach orders' or inventory's gRPC (SetStock included) past the gateway.
  return services.map((service) => ({
    ...service,
    env: { ...tracingEnv(layout), READINESS: 'dependencies', BIND_HOST: '127.0.0.1', ...service.env },
  }));
}

/** The compiled entry point of an app, as the build lays it out. */
export function appEntry(layout: LabLayout, app: string): string {
  return join(layout.root, 'dist', 'apps', app, 'src', 'main.js');
}
