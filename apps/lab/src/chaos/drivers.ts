// Local fault drivers (DESIGN.md §6): kill a supervised process (pod-kill), freeze it with SIGSTOP (pod-failure),
// the fault proxy on a service→dependency edge (delay, loss, partition), stop/start an infrastructure process,
// publish a poison message, run the orders migration under load. Each driver PROVES its fault fired from evidence outside its
// own claims (the pid really changed, the process really was stopped, the latency was really observed on the edge,
// the broker acknowledged the poison message); a driver without proof leaves the run INCONCLUSIVE.
// LAB_CHAOS_SABOTAGE=no-op-driver turns every injection into a no-op (to prove that the proof is checked).
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { EVENT_HEADERS, HEALTH_V1, loadGrpcObject } from '@faultline/contracts';
import { FaultProxy } from '@faultline/fault-proxy';
import { kafkaBrokers } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { processState } from '../process/pid-file';
import { silentProgress } from '../process/progress';
import { readJson, supervisorFiles, SupervisorState } from '../supervisor/supervisor-files';
import type { Experiment, LocalFault } from './experiment-schema';
import { ExtraProcess, freePort, startExtra } from './extras';
import { migrationStatus } from '../migrate/online-migration';
import { prepareMigration, runMigrationPlan, undoNaive } from '../migrate/migration-fault';

export interface DriverContext {
  layout: LabLayout;
  local: LocalTarget;
  experiment: Experiment;
  quick: boolean;
  sabotaged: boolean;
  log: (message: string) => void;
  /** Epoch ms the load started (set by the runner before the driver runs). */
  loadStartedAt: number;
  /** Where the load goes: the lab's gateway, or an extra gateway wired through a proxy / naive variant. */
  baseUrl: string;
  /** ms since loadStartedAt. */
  window: { injectedAt?: number; healedAt?: number };
  fired: boolean;
  evidence: string[];
  extras: ExtraProcess[];
  proxies: FaultProxy[];
  /** Facts drivers record for verdict checks (e.g. the poison message's event id). */
  facts: Record<string, unknown>;
}

export interface Timing {
  atS: number;
  holdS: number;
  intervalS: number;
}

export function timingOf(fault: LocalFault, quick: boolean): Timing {
  const q = quick ? (fault.quick ?? {}) : {};
  return { atS: q.atS ?? fault.atS ?? 5, holdS: q.holdS ?? fault.holdS ?? 10, intervalS: q.intervalS ?? fault.intervalS ?? 10 };
}

interface Driver<F extends LocalFault = LocalFault> {
  /** Before steady state and load: start what the fault needs (proxies, extra processes). */
  setup?(ctx: DriverContext, fault: F): Promise<void>;
  /** Alongside the load: wait, inject, hold, heal; records the window, the evidence and whether it fired. */
  run(ctx: DriverContext, fault: F, timing: Timing): Promise<void>;
  /** Always called at the end: undo anything left (thaw, restart, remove the proxy fault). */
  cleanup?(ctx: DriverContext, fault: F): Promise<void>;
}

const at = async (ctx: DriverContext, seconds: number) => {
  const wait = ctx.loadStartedAt + seconds * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
};
const since = (ctx: DriverContext) => Date.now() - ctx.loadStartedAt;

function supervisedPid(ctx: DriverContext, service: string): { pid: number | null; restarts: number; state: string } {
  const s = readJson<SupervisorState>(supervisorFiles(ctx.layout).state)?.services[service];
  return { pid: s?.pid ?? null, restarts: s?.restarts ?? 0, state: s?.state ?? 'unknown' };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The variant's extra copy of a service, when the experiment runs one (dual-write orders). */
const extraFor = (ctx: DriverContext, service: string) => ctx.extras.find((e) => e.name === `${service}-chaos`);

/**
 * Starts the experiment's extra processes: a copy of each service its variant (or an edge's proxy) switches, and a
 * `gateway-chaos` routed to them. `serviceEnv` adds to a service's variant (e.g. orders' DATABASE_URL through a proxy).
 * Extras export their spans under their own name (OTEL_SERVICE_NAME), so trace checks tell them from the lab's.
 */
async function startVariantExtras(ctx: DriverContext, gatewayEnv: Record<string, string>, serviceEnv: Record<string, Record<string, string>> = {}): Promise<void> {
  const variant = ctx.experiment.variant ?? {};
  const gatewayOverrides: Record<string, string> = { ...gatewayEnv, ...(variant['gateway'] ?? {}) };
  for (const service of new Set([...Object.keys(variant), ...Object.keys(serviceEnv)])) {
    if (service === 'gateway') continue;
    const env = { ...(variant[service] ?? {}), ...(serviceEnv[service] ?? {}) };
    const extra = await startExtra(ctx.layout, ctx.local, service, `${service}-chaos`, { OTEL_SERVICE_NAME: `${service}-chaos`, ...env });
    ctx.extras.push(extra);
    ctx.log(`started ${extra.name} (pid ${extra.child.pid}) with ${JSON.stringify(env)}`);
    if (service === 'orders') gatewayOverrides['ORDERS_GRPC_ADDRESS'] ??= `127.0.0.1:${extra.grpcPort}`;
  }
  if (Object.keys(gatewayOverrides).length > 0) {
    const gateway = await startExtra(ctx.layout, ctx.local, 'gateway', 'gateway-chaos', { OTEL_SERVICE_NAME: 'gateway-chaos', ...gatewayOverrides });
    ctx.extras.push(gateway);
    ctx.baseUrl = gateway.url;
    ctx.facts['gatewayService'] = 'gateway-chaos';
    ctx.log(`started gateway-chaos (pid ${gateway.child.pid}) on ${gateway.url} with ${JSON.stringify(gatewayOverrides)}`);
  }
}

const killProcess: Driver<Extract<LocalFault, { driver: 'kill-process' }>> = {
  async setup(ctx) {
    await startVariantExtras(ctx, {});
  },
  async run(ctx, fault, timing) {
    let killed = 0;
    for (let i = 0; i < fault.times; i++) {
      await at(ctx, timing.atS + i * timing.intervalS);
      const extra = extraFor(ctx, fault.service);
      if (extra) {
        const pid = extra.child.pid ?? 0;
        if (!ctx.sabotaged) process.kill(pid, 'SIGKILL');
        ctx.window.injectedAt ??= since(ctx);
        await sleep(500);
        if (extra.child.signalCode === 'SIGKILL' && !alive(pid)) {
          killed++;
          ctx.evidence.push(`${extra.name} pid ${pid} died of SIGKILL at +${(since(ctx) / 1000).toFixed(1)} s`);
        }
        continue;
      }
      const before = supervisedPid(ctx, fault.service);
      if (!before.pid) throw new Error(`${fault.service} is not running (supervisor state: ${before.state})`);
      ctx.facts['lastKillAt'] = since(ctx);
      if (!ctx.sabotaged) process.kill(before.pid, 'SIGKILL');
      ctx.window.injectedAt ??= since(ctx);
      ctx.log(`SIGKILL ${fault.service} pid ${before.pid}`);
      // Proof: the old pid is gone and the supervisor runs a new one with more restarts.
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const now = supervisedPid(ctx, fault.service);
        if (!alive(before.pid) && now.restarts > before.restarts && now.pid && now.pid !== before.pid) {
          killed++;
          ctx.evidence.push(`${fault.service} pid ${before.pid} died; supervisor restarted it as pid ${now.pid} (restarts ${before.restarts} → ${now.restarts})`);
          break;
        }
        await sleep(200);
      }
    }
    ctx.window.healedAt = since(ctx);
    ctx.fired = killed === fault.times;
    if (!ctx.fired) ctx.evidence.push(`only ${killed} of ${fault.times} kills were observed`);
  },
};

const frozen = new Set<number>();
const freezeProcess: Driver<Extract<LocalFault, { driver: 'freeze-process' }>> = {
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    const { pid } = supervisedPid(ctx, fault.service);
    if (!pid) throw new Error(`${fault.service} is not running`);
    if (!ctx.sabotaged) {
      process.kill(pid, 'SIGSTOP');
      frozen.add(pid);
    }
    ctx.window.injectedAt = since(ctx);
    await sleep(300);
    // Proof: the kernel reports the process stopped (state T in /proc/<pid>/stat).
    const state = processState(pid);
    ctx.fired = state === 'T';
    ctx.evidence.push(`${fault.service} pid ${pid} state in /proc: ${state}${state === 'T' ? ' (stopped)' : ' (NOT stopped)'}`);
    await sleep(Math.max(0, timing.holdS * 1000 - 300));
    process.kill(pid, 'SIGCONT');
    frozen.delete(pid);
    ctx.window.healedAt = since(ctx);
    ctx.log(`thawed ${fault.service} pid ${pid}`);
  },
  async cleanup() {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen.clear();
  },
};

/** Times one gRPC health check through the proxy: the latency the edge really shows. */
async function timedHealthCheck(port: number, timeoutMs: number): Promise<number> {
  const { Health } = loadGrpcObject(HEALTH_V1).grpc.health.v1;
  const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const started = performance.now();
  try {
    await new Promise<void>((resolve) => client.Check({ service: '' }, { deadline: Date.now() + timeoutMs }, () => resolve()));
    return performance.now() - started;
  } finally {
    client.close();
  }
}

/** Times one `SELECT 1` through the proxy on an open connection: the latency the database edge really shows. */
async function timedSqlRoundTrip(url: string): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    let best = Number.POSITIVE_INFINITY;
    // The fastest of three: a latency floor, not one lucky or unlucky sample on a busy machine.
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await client.query('SELECT 1');
      best = Math.min(best, performance.now() - started);
    }
    return best;
  } finally {
    await client.end();
  }
}

/** The URL `service` uses for `variable`, with its port moved to the proxy's. */
function throughProxy(ctx: DriverContext, service: string, variable: string, proxyPort: number): string {
  const url = new URL(ctx.local.services().find((s) => s.name === service)?.env[variable] ?? '');
  url.hostname = '127.0.0.1';
  url.port = String(proxyPort);
  return url.toString();
}

interface Edge {
  /** The service whose dependency goes through the proxy: a `<from>-chaos` extra is started for it. */
  from: 'gateway' | 'orders';
  env: string;
  port: (l: LabLayout) => number;
  value: (ctx: DriverContext, proxyPort: number) => string;
  /** One round trip over the proxied edge, timed: the proof that the fault is on the wire. */
  probe: (ctx: DriverContext, proxyPort: number, timeoutMs: number) => Promise<number>;
}

const grpcEdge = (env: string, port: (l: LabLayout) => number): Edge => ({
  from: 'gateway',
  env,
  port,
  value: (_ctx, proxyPort) => `127.0.0.1:${proxyPort}`,
  probe: (_ctx, proxyPort, timeoutMs) => timedHealthCheck(proxyPort, timeoutMs),
});

const EDGE_TARGET: Record<string, Edge> = {
  'gateway->recommendations': grpcEdge('RECOMMENDATIONS_GRPC_ADDRESS', (l) => l.ports.recommendationsGrpc),
  'gateway->orders': grpcEdge('ORDERS_GRPC_ADDRESS', (l) => l.ports.ordersGrpc),
  'orders->postgres': {
    from: 'orders',
    env: 'DATABASE_URL',
    port: (l) => l.ports.postgres,
    value: (ctx, proxyPort) => throughProxy(ctx, 'orders', 'DATABASE_URL', proxyPort),
    probe: (ctx, proxyPort) => timedSqlRoundTrip(throughProxy(ctx, 'orders', 'DATABASE_URL', proxyPort)),
  },
};

const proxyEdge: Driver<Extract<LocalFault, { driver: 'proxy' }>> = {
  async setup(ctx, fault) {
    const edge = EDGE_TARGET[fault.edge];
    if (!edge) throw new Error(`the local target has no proxy on edge ${fault.edge} yet (kind only)`);
    const proxy = new FaultProxy({ listen: { host: '127.0.0.1', port: await freePort() }, target: { host: '127.0.0.1', port: edge.port(ctx.layout) } });
    await proxy.start();
    ctx.proxies.push(proxy);
    ctx.facts['proxyPort'] = proxy.address().port;
    const value = edge.value(ctx, proxy.address().port);
    if (edge.from === 'gateway') await startVariantExtras(ctx, { [edge.env]: value });
    else await startVariantExtras(ctx, {}, { [edge.from]: { [edge.env]: value } });
  },
  async run(ctx, fault, timing) {
    const proxy = ctx.proxies[0];
    const edge = EDGE_TARGET[fault.edge];
    await at(ctx, timing.atS);
    const spec = { ...fault.fault } as Parameters<FaultProxy['set']>[0];
    const before = proxy.stats();
    if (!ctx.sabotaged) proxy.set(spec);
    ctx.window.injectedAt = since(ctx);
    ctx.log(`proxy ${fault.edge}: ${JSON.stringify(spec)}`);
    // Proof: one round trip over the same edge (a gRPC health check, a SELECT 1) takes at least most of the latency.
    const expected = fault.fault.kind === 'latency' ? (fault.fault.ms ?? 0) : 1000;
    const observed = await edge.probe(ctx, proxy.address().port, expected * 3 + 1000);
    ctx.fired = observed >= expected * 0.8;
    ctx.evidence.push(`a ${edge.from === 'gateway' ? 'gRPC health check' : 'SELECT 1'} over ${fault.edge} took ${observed.toFixed(1)} ms during the fault (injected ${fault.fault.kind} ${expected} ms)`);
    await sleep(Math.max(0, ctx.loadStartedAt + (timing.atS + timing.holdS) * 1000 - Date.now()));
    proxy.set({ kind: 'none' });
    ctx.window.healedAt = since(ctx);
    const after = proxy.stats();
    ctx.evidence.push(`${after.bytesUpstream - before.bytesUpstream} bytes went through the proxied ${fault.edge} edge during the fault`);
  },
  async cleanup(ctx) {
    for (const p of ctx.proxies) p.set({ kind: 'none' });
  },
};

const stoppedInfra = new Set<string>();
const infraStop: Driver<Extract<LocalFault, { driver: 'infra-stop' }>> = {
  async run(ctx, fault, timing) {
    const component = ctx.local.infra().find((c) => c.name === fault.component);
    if (!component) throw new Error(`no infrastructure component ${fault.component}`);
    await at(ctx, timing.atS);
    const before = await component.status();
    if (!ctx.sabotaged) {
      stoppedInfra.add(fault.component);
      await component.stop();
    }
    ctx.window.injectedAt = since(ctx);
    const during = await component.status();
    const port = ctx.layout.ports[fault.component];
    const listening = await portOpen(port);
    ctx.fired = Boolean(before.pid) && !during.pid && !listening;
    ctx.evidence.push(`${fault.component}: pid ${before.pid} before, ${during.pid ?? 'none'} during the fault (state ${during.state}); port ${port} ${listening ? 'STILL accepts connections' : 'refuses connections'}`);
    await sleep(Math.max(0, ctx.loadStartedAt + (timing.atS + timing.holdS) * 1000 - Date.now()));
    if (stoppedInfra.has(fault.component)) await component.start(silentProgress);
    stoppedInfra.delete(fault.component);
    ctx.window.healedAt = since(ctx);
    const after = await component.status();
    ctx.evidence.push(`${fault.component} started again as pid ${after.pid}`);
  },
  async cleanup(ctx) {
    for (const name of stoppedInfra) await ctx.local.infra().find((c) => c.name === name)?.start(silentProgress);
    stoppedInfra.clear();
  },
};

const poisonMessage: Driver<Extract<LocalFault, { driver: 'poison-message' }>> = {
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    const orderId = randomUUID();
    const eventId = randomUUID();
    ctx.facts['poisonEventId'] = eventId;
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      ctx.window.healedAt = since(ctx);
      ctx.evidence.push('no poison message was published');
      return;
    }
    const kafka = new Kafka({ clientId: 'lab-chaos-poison', brokers: kafkaBrokers(ctx.layout), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const [ack] = await producer.send({
        topic: fault.topic,
        messages: [
          {
            key: orderId,
            // quantity 0 breaks the v1 schema: no retry can fix it.
            value: JSON.stringify({ orderId, customerId: 'chaos-poison', items: [{ sku: 'SKU-0042', quantity: 0 }], placedAt: new Date().toISOString() }),
            headers: { [EVENT_HEADERS.eventId]: eventId, [EVENT_HEADERS.eventType]: 'OrderPlaced', [EVENT_HEADERS.eventVersion]: '1' },
          },
        ],
      });
      ctx.fired = ack?.errorCode === 0;
      ctx.evidence.push(`poison OrderPlaced (event ${eventId}) acknowledged by the broker on ${fault.topic}:${ack?.partition} offset ${ack?.baseOffset}`);
    } finally {
      await producer.disconnect();
    }
    ctx.window.healedAt = since(ctx);
  },
};

const migrate: Driver<Extract<LocalFault, { driver: 'migrate' }>> = {
  async setup(ctx, fault) {
    await prepareMigration(ctx.layout, ctx.local, ctx.quick ? (fault.quickArchivedOrders ?? fault.archivedOrders) : fault.archivedOrders, ctx.log);
  },
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      ctx.window.healedAt = since(ctx);
      return;
    }
    const run = await runMigrationPlan(ctx.layout, ctx.local, fault.plan, { lockBudgetMs: fault.lockBudgetMs, log: ctx.log });
    ctx.window.healedAt = since(ctx);
    ctx.facts['migration'] = { steps: run.steps, watch: run.watch, relayLagP99Ms: run.relayLagP99Ms, error: run.error };
    for (const step of run.steps) ctx.evidence.push(`${step.step} ${step.direction === 'apply' ? 'applied' : 'rolled back'} in ${(step.ms / 1000).toFixed(2)} s`);
    if (run.error) ctx.evidence.push(`migration failed: ${run.error}`);
    // Proof from the database, not from the job's word: the rollout's recorded step and the watch's samples.
    const after = await migrationStatus(ctx.layout, ctx.local);
    const reached = fault.plan === 'naive' ? 'naive' : 'contract';
    ctx.evidence.push(`orders table now at step ${String(after['step'])}; ${run.watch.samples} lock samples every ${run.watch.intervalMs} ms`);
    const loadEnd = (ctx.experiment.load.quick && ctx.quick ? (ctx.experiment.load.quick.durationS ?? ctx.experiment.load.durationS) : ctx.experiment.load.durationS) * 1000;
    if (ctx.window.healedAt > loadEnd) ctx.evidence.push(`the migration outlasted the load by ${((ctx.window.healedAt - loadEnd) / 1000).toFixed(1)} s`);
    ctx.fired = run.ok && after['step'] === reached && run.watch.samples > 0;
  },
  async cleanup(ctx, fault) {
    // The naive state is a dead end for the online steps: take it back. The online plan leaves the table migrated
    // (`lab migrate status` shows it); the next run's setup rolls it back first.
    if (fault.plan === 'naive') await undoNaive(ctx.layout, ctx.local);
  },
};

export const LOCAL_DRIVER_IMPLEMENTATIONS: Record<LocalFault['driver'], Driver<never>> = {
  'kill-process': killProcess,
  'freeze-process': freezeProcess,
  proxy: proxyEdge,
  'infra-stop': infraStop,
  'poison-message': poisonMessage,
  migrate,
};

export function driverFor(fault: LocalFault): Driver<LocalFault> {
  return LOCAL_DRIVER_IMPLEMENTATIONS[fault.driver] as unknown as Driver<LocalFault>;
}
