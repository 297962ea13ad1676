import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the lab keeps its state and which ports it uses. Everything the lab starts lives under one state folder
 * (`.lab/` by default) and on ports derived from one offset, so a second lab (the test suite's) can run beside the
 * user's without touching it, and neither ever touches the machine's own Postgres, Redis or Kafka.
 */
export interface LabPorts {
  postgres: number;
  redis: number;
  kafka: number;
  kafkaController: number;
  prometheus: number;
  gateway: number;
  ordersGrpc: number;
  ordersHttp: number;
  inventoryGrpc: number;
  inventoryHttp: number;
  recommendationsGrpc: number;
  recommendationsHttp: number;
  notificationsGrpc: number;
  notificationsHttp: number;
  relayOrdersHttp: number;
  relayInventoryHttp: number;
}

export interface LabLayout {
  /** The repository root (holds package.json, dist/ after a build). */
  root: string;
  /** `.lab/` or LAB_STATE_DIR: data, logs, pid files, secrets, reports. Git-ignored. */
  stateDir: string;
  dataDir: string;
  logDir: string;
  runDir: string;
  secretsDir: string;
  /** Downloads that outlive a checkout (Kafka's jars): LAB_CACHE_DIR or ~/.cache/faultline. */
  cacheDir: string;
  portOffset: number;
  ports: LabPorts;
}

/**
 * The default ports, chosen away from the standard ones (5432, 6379, 9092, 9090) that the machine's services use,
 * and below 32768 even with an offset of several thousand: Linux hands out 32768–60999 as ephemeral ports for
 * outgoing connections, so a server port up there (gRPC's usual 50051) is sometimes taken by a client socket
 * (EADDRINUSE, seen here: a Redis connection held 53652 when inventory wanted it).
 */
export const BASE_PORTS: LabPorts = {
  postgres: 15432,
  redis: 16379,
  kafka: 19092,
  kafkaController: 19093,
  prometheus: 19090,
  gateway: 8080,
  ordersGrpc: 7051,
  ordersHttp: 9401,
  inventoryGrpc: 7052,
  inventoryHttp: 9402,
  recommendationsGrpc: 7053,
  recommendationsHttp: 9403,
  notificationsGrpc: 7054,
  notificationsHttp: 9404,
  relayOrdersHttp: 9405,
  relayInventoryHttp: 9406,
};

export function findRepoRoot(start = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'nx.json')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the Faultline repository root above ${start}`);
    dir = parent;
  }
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function resolveLayout(env: NodeJS.ProcessEnv = process.env, root = findRepoRoot()): LabLayout {
  const stateDir = resolve(root, env['LAB_STATE_DIR'] || '.lab');
  const cacheDir = resolve(
    env['LAB_CACHE_DIR'] || join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'faultline'),
  );
  const portOffset = intFromEnv(env, 'LAB_PORT_OFFSET', 0, 0, 10000);
  const ports = Object.fromEntries(
    Object.entries(BASE_PORTS).map(([name, port]) => [name, port + portOffset]),
  ) as unknown as LabPorts;
  ports.gateway = intFromEnv(env, 'LAB_GATEWAY_PORT', BASE_PORTS.gateway + portOffset, 1, 65535);
  return {
    root,
    stateDir,
    dataDir: join(stateDir, 'data'),
    logDir: join(stateDir, 'logs'),
    runDir: join(stateDir, 'run'),
    secretsDir: join(stateDir, 'secrets'),
    cacheDir,
    portOffset,
    ports,
  };
}

/** Where chaos runs, the course of the catalog and `lab migrate` write their reports: <state>/reports/. */
export const reportsDir = (layout: LabLayout): string => join(layout.stateDir, 'reports');
