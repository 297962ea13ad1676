// A whole lab for the resilience suite, started by the real `lab` CLI on its own state folder and ports (offset 2800:
// gateway on 10880), plus extra processes the suite starts itself: gateways with their own configuration (pointed at
// a fault proxy, RECS_FALLBACK=naive, tiny shedding bounds…) and a recommendations process it can freeze.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually, labCli, repoRoot } from '@faultline/testing';
import { LIMITS_OUT_OF_THE_WAY } from './gateway-lab';

export const OFFSET = 2800;
export const LAB_ENV = { LAB_STATE_DIR: '.lab/test-resilience', LAB_PORT_OFFSET: String(OFFSET), LAB_GATEWAY_PORT: '' };
export const STATE_DIR = join(repoRoot, LAB_ENV.LAB_STATE_DIR);
/** The lab's ports (apps/lab/src/layout/lab-layout.ts BASE_PORTS + the offset). */
export const PORTS = {
  gateway: 8080 + OFFSET,
  postgres: 15432 + OFFSET,
  redis: 16379 + OFFSET,
  kafka: 19092 + OFFSET,
  ordersGrpc: 7051 + OFFSET,
  inventoryGrpc: 7052 + OFFSET,
  recommendationsGrpc: 7053 + OFFSET,
  notificationsGrpc: 7054 + OFFSET,
};
export const LAB_GATEWAY = `http://127.0.0.1:${PORTS.gateway}`;
export const lab = labCli(LAB_ENV).exec;

export async function labToken(sub: string): Promise<string> {
  const result = await lab('token', '--sub', sub, '--role', 'customer', '--tier', 'paid');
  if (result.code !== 0) throw new Error(`lab token failed: ${result.stderr}`);
  return result.stdout.trim();
}

export interface ExtraProcess {
  name: string;
  process: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** Starts a built app (dist/) with the given environment; its log goes to <state>/logs/<name>.log. */
async function startApp(
  name: string,
  app: string,
  httpPort: number,
  env: Record<string, string>,
): Promise<ExtraProcess> {
  mkdirSync(join(STATE_DIR, 'logs'), { recursive: true });
  const log = openSync(join(STATE_DIR, 'logs', `${name}.log`), 'a');
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'apps', app, 'src', 'main.js')], {
    // LAB_STATE_DIR marks the process as this lab's, so leftover-process checks find it.
    env: {
      PATH: process.env['PATH'] ?? '',
      LAB_STATE_DIR: LAB_ENV.LAB_STATE_DIR,
      LOG_LEVEL: 'warn',
      HTTP_PORT: String(httpPort),
      ...env,
    },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  await eventually(
    `${name} to answer /healthz`,
    async () => {
      if (child.exitCode !== null)
        throw new Error(`${name} exited with ${child.exitCode}; see ${STATE_DIR}/logs/${name}.log`);
      return (
        (await fetch(`${url}/healthz`)
          .then((r) => r.ok)
          .catch(() => false)) || undefined
      );
    },
    30_000,
    200,
  );
  return {
    name,
    process: child,
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A gateway like the lab's, on `port`, with `overrides` (dependency addresses, policies) on top. */
export function startGateway(
  name: string,
  port: number,
  overrides: Record<string, string> = {},
): Promise<ExtraProcess> {
  const grpc = (p: number) => `127.0.0.1:${p}`;
  return startApp(name, 'gateway', port, {
    REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
    ORDERS_GRPC_ADDRESS: grpc(PORTS.ordersGrpc),
    INVENTORY_GRPC_ADDRESS: grpc(PORTS.inventoryGrpc),
    RECOMMENDATIONS_GRPC_ADDRESS: grpc(PORTS.recommendationsGrpc),
    NOTIFICATIONS_GRPC_ADDRESS: grpc(PORTS.notificationsGrpc),
    JWT_PUBLIC_KEY_FILE: join(STATE_DIR, 'secrets', 'jwt-public.pem'),
    JWT_ISSUER: 'faultline-lab',
    JWT_AUDIENCE: 'faultline-api',
    ...LIMITS_OUT_OF_THE_WAY,
    ...overrides,
  });
}

/** A second recommendations process (same Redis and consumer group as the lab's) that a test may freeze. */
export function startRecommendations(name: string, ports: { http: number; grpc: number }): Promise<ExtraProcess> {
  return startApp(name, 'recommendations', ports.http, {
    GRPC_PORT: String(ports.grpc),
    REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`,
    KAFKA_BROKERS: `127.0.0.1:${PORTS.kafka}`,
  });
}

export interface Timed {
  status: number;
  ms: number;
  body: unknown;
  headers: Headers;
}

export async function timedGet(url: string, token: string): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const ms = performance.now() - started;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, ms, body, headers: response.headers };
}

/** `total` GETs of `url`, `concurrency` at a time. */
export async function load(url: string, token: string, total: number, concurrency: number): Promise<Timed[]> {
  const results: Timed[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        results.push(await timedGet(url, token));
      }
    }),
  );
  return results;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The sum of a metric's samples whose labels include all of `labels`, from a /metrics page. */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Work the orders database has done so far (pg_stat_database; flushed by backends about once a second). */
export async function ordersDbStats(): Promise<{ xactCommit: number; tupReturned: number }> {
  const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${PORTS.postgres}/postgres` });
  await client.connect();
  try {
    const { rows } = await client.query<{ xact_commit: string; tup_returned: string }>(
      "SELECT xact_commit, tup_returned FROM pg_stat_database WHERE datname = 'orders'",
    );
    return { xactCommit: Number(rows[0].xact_commit), tupReturned: Number(rows[0].tup_returned) };
  } finally {
    await client.end();
  }
}
