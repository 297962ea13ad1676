// Local fault drivers: kill a supervised process (pod-kill), freeze it with SIGSTOP (pod-failure), the fault proxy on
// a service→dependency edge (delay, loss, partition), stop/start an infrastructure process, publish poison messages,
// run the orders migration under load. Each driver PROVES its fault fired from evidence outside its own claims (the
// pid really changed, the kernel shows the process stopped, the services' own bytes crossed the proxy held by the
// fault and a probe's round trip grew against a baseline taken just before, the broker acknowledged the poison);
// a driver without proof leaves the run INCONCLUSIVE. LAB_CHAOS_SABOTAGE=no-op-driver turns every injection into a
// no-op, to show that the proof is what decides.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { HEALTH_V1, loadGrpcObject } from '@faultline/contracts';
import { FaultProxy, type FaultProxyStats, PgStatementTally } from '@faultline/fault-proxy';
import { groupCommitted, listDlq, replayDlq, type TopicPositions } from '@faultline/messaging';
import { retireKeys, revokeJti, rotateKeys } from '../access/signing-keys';
import { jwtPrivateKeyFile } from '../topology/lab-services';
import {
  attackProof,
  type AttackPreparation,
  type AttackTarget,
  type BypassProbe,
  prepareAttack,
  runAttack,
} from './attack';
import { kafkaBrokers } from '../infra/infra';
import { labSql } from '../infra/lab-sql';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { processState } from '../process/pid-file';
import { silentProgress } from '../process/progress';
import { readJson, supervisorFiles, SupervisorState } from '../supervisor/supervisor-files';
import type { Poison, ReplayFacts } from './checks';
import { readBus } from './bus';
import type { EdgeTraffic } from './evidence';
import { type Converge, operatorRepair } from './operator-repair';
import { replayHandlerPoison } from './dlq-replay-step';
import { poisonMessages } from './poisons';
import { withServiceDatabases } from './reconcile';
import type { FaultLedger } from './fault-ledger';
import type { Experiment, LocalFault } from './experiment-schema';
import { ExtraProcess, freePort, startExtra } from './extras';
import { migrationStatus } from '../migrate/online-migration';
import { runLoad, type RequestRecord } from '@faultline/load';
import { prepareMigration, runMigrationPlan, undoNaive } from '../migrate/migration-fault';
import { labTokenSigner } from '../access/access-tokens';

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
  /** Supervised services held stopped while a variant copy takes their place (released at the end). */
  held: string[];
  /** Every fault and extra process of the run, so that an interrupted run is undone (by itself, or by the next). */
  ledger: FaultLedger;
  /** What the proxy saw of the services' own traffic on the faulted edge. */
  edge?: EdgeTraffic;
  /** Facts drivers record for verdict checks (e.g. the poison messages). */
  facts: Record<string, unknown>;
  /** The run's id (its customers are chaos-<runId>-NNN). */
  runId: string;
  /** Requests a driver made as part of the load (an overload's burst): judged with the load's own. */
  extraRecords: RequestRecord[];
}

export interface Timing {
  atS: number;
  holdS: number;
  intervalS: number;
}

export function timingOf(fault: LocalFault, quick: boolean): Timing {
  const q = quick ? (fault.quick ?? {}) : {};
  return {
    atS: q.atS ?? fault.atS ?? 5,
    holdS: q.holdS ?? fault.holdS ?? 10,
    intervalS: q.intervalS ?? fault.intervalS ?? 10,
  };
}

interface Driver<F extends LocalFault = LocalFault> {
  /** Before steady state and load: start what the fault needs (proxies, extra processes). */
  setup?(ctx: DriverContext, fault: F): Promise<void>;
  /** After the steady state and the run's starting point were read, right before the load. */
  beforeLoad?(ctx: DriverContext, fault: F): Promise<void>;
  /** Alongside the load: wait, inject, hold, heal; records the window, the evidence and whether it fired. */
  run(ctx: DriverContext, fault: F, timing: Timing): Promise<void>;
  /** Once the load's last answer is in. */
  afterLoad?(ctx: DriverContext, fault: F): Promise<void>;
  /**
   * After the pipeline converged (or timed out): an operator's step; `converge` waits for convergence again. True: it
   * acted.
   */
  afterConvergence?(ctx: DriverContext, fault: F, converge: Converge): Promise<boolean>;
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

/** The variant's copy of a service, when the experiment runs one (`<service>-chaos`). */
export const extraFor = (ctx: Pick<DriverContext, 'extras'>, service: string) =>
  ctx.extras.find((e) => e.name === `${service}-chaos`);

/**
 * Services whose variant REPLACES the supervised one for the run (held stopped, the copy on its ports and in its
 * consumer group): they apply events' effects, so a copy beside the original would either apply each effect twice
 * (two groups) or get only some partitions (one group). Request-path services get a copy beside them instead, behind
 * a `gateway-chaos`.
 */
const REPLACED_BY_VARIANT = new Set(['inventory', 'notifications', 'recommendations']);

/**
 * Starts the experiment's extra processes: a copy of each service its variant (or an edge's proxy) switches, and a
 * `gateway-chaos` routed to them. `serviceEnv` adds to a service's variant (e.g. orders' DATABASE_URL through a proxy).
 * Extras export their spans under their own name (OTEL_SERVICE_NAME), so trace checks tell them from the lab's.
 */
async function startVariantExtras(
  ctx: DriverContext,
  gatewayEnv: Record<string, string>,
  serviceEnv: Record<string, Record<string, string>> = {},
): Promise<void> {
  const variant = ctx.experiment.variant ?? {};
  const gatewayOverrides: Record<string, string> = { ...gatewayEnv, ...(variant['gateway'] ?? {}) };
  for (const service of new Set([...Object.keys(variant), ...Object.keys(serviceEnv)])) {
    // The gateway's overrides go to gateway-chaos below; the server's settings are the runner's (server-settings.ts).
    if (service === 'gateway' || service === 'postgres') continue;
    const env = { ...(variant[service] ?? {}), ...(serviceEnv[service] ?? {}) };
    const replace = REPLACED_BY_VARIANT.has(service);
    if (replace) {
      ctx.ledger.add({ kind: 'held', service });
      await ctx.local.hold(service, `chaos run of ${ctx.experiment.id}: ${service}-chaos takes its place`);
      ctx.held.push(service);
      ctx.log(`holding the lab's ${service}: ${service}-chaos takes its ports and its consumer group for the run`);
    }
    const extra = await startExtra(
      ctx.layout,
      ctx.local,
      service,
      `${service}-chaos`,
      { OTEL_SERVICE_NAME: `${service}-chaos`, ...env },
      { samePorts: replace, ledger: ctx.ledger },
    );
    ctx.extras.push(extra);
    ctx.log(`started ${extra.name} (pid ${extra.child.pid}) with ${JSON.stringify(env)}`);
    if (service === 'orders') gatewayOverrides['ORDERS_GRPC_ADDRESS'] ??= `127.0.0.1:${extra.grpcPort}`;
  }
  if (Object.keys(gatewayOverrides).length > 0) {
    const gateway = await startExtra(
      ctx.layout,
      ctx.local,
      'gateway',
      'gateway-chaos',
      { OTEL_SERVICE_NAME: 'gateway-chaos', ...gatewayOverrides },
      { ledger: ctx.ledger },
    );
    ctx.extras.push(gateway);
    ctx.baseUrl = gateway.url;
    ctx.facts['gatewayService'] = 'gateway-chaos';
    ctx.log(
      `started gateway-chaos (pid ${gateway.child.pid}) on ${gateway.url} with ${JSON.stringify(gatewayOverrides)}`,
    );
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
        ctx.facts['lastKillAt'] = since(ctx);
        if (!ctx.sabotaged) process.kill(pid, 'SIGKILL');
        ctx.window.injectedAt ??= since(ctx);
        ctx.log(`SIGKILL ${extra.name} pid ${pid}`);
        // Proof: the process died of SIGKILL; then it is started again, as a Deployment would.
        const exit = await Promise.race([extra.exited, sleep(3000).then(() => undefined)]);
        if (exit?.signal === 'SIGKILL' && !alive(pid)) {
          const diedAt = since(ctx);
          await extra.restart();
          killed++;
          ctx.evidence.push(
            `${extra.name} pid ${pid} died of SIGKILL at +${(diedAt / 1000).toFixed(1)} s; started again as pid ${extra.child.pid}, ready at +${(since(ctx) / 1000).toFixed(1)} s`,
          );
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
          ctx.evidence.push(
            `${fault.service} pid ${before.pid} died; supervisor restarted it as pid ${now.pid} (restarts ${before.restarts} → ${now.restarts})`,
          );
          break;
        }
        await sleep(200);
      }
    }
    ctx.window.healedAt = since(ctx);
    ctx.fired = killed === fault.times;
    if (!ctx.fired) ctx.evidence.push(`only ${killed} of ${fault.times} kills were observed`);
  },
  afterConvergence: (ctx, fault, converge) => repairAfterConvergence(ctx, fault.repair, converge),
};

/**
 * The operator's step after a fault that loses events (`repair` in the fault): reconcile, repair, converge, repair
 * again.
 */
async function repairAfterConvergence(
  ctx: DriverContext,
  repair: { graceS: number } | undefined,
  converge: Converge,
): Promise<boolean> {
  if (!repair) return false;
  const sql = labSql(ctx.layout);
  try {
    ctx.facts['repair'] = await withServiceDatabases(ctx.layout, (databases) =>
      operatorRepair({
        sql: (db, text, params) => sql.query(db, text, params),
        bus: () => readBus(kafkaBrokers(ctx.layout), ctx.facts['busFrom'] as TopicPositions),
        databases,
        runId: ctx.runId,
        graceS: repair.graceS,
        converge,
        log: ctx.log,
      }),
    );
    return true;
  } finally {
    await sql.close();
  }
}

const frozen = new Set<number>();

/** SIGSTOP, then the kernel's word that it took: state T in /proc/<pid>/stat. */
async function freeze(ctx: DriverContext, service: string): Promise<number> {
  const pid = extraFor(ctx, service)?.child.pid ?? supervisedPid(ctx, service).pid;
  if (!pid) throw new Error(`${service} is not running`);
  if (!ctx.sabotaged) {
    ctx.ledger.add({ kind: 'frozen', pid, service });
    process.kill(pid, 'SIGSTOP');
    frozen.add(pid);
  }
  await sleep(300);
  const state = processState(pid);
  ctx.fired = state === 'T';
  ctx.evidence.push(`${service} pid ${pid} state in /proc: ${state}${state === 'T' ? ' (stopped)' : ' (NOT stopped)'}`);
  return pid;
}

const freezeProcess: Driver<Extract<LocalFault, { driver: 'freeze-process' }>> = {
  async setup(ctx) {
    await startVariantExtras(ctx, {});
  },
  async beforeLoad(ctx, fault) {
    if (!fault.leadS) return;
    await freeze(ctx, fault.service);
    ctx.log(`froze ${fault.service} ${fault.leadS} s before the load`);
    await sleep(fault.leadS * 1000);
  },
  async run(ctx, fault, timing) {
    let pid = [...frozen][0];
    if (fault.leadS) ctx.window.injectedAt = -fault.leadS * 1000;
    else {
      await at(ctx, timing.atS);
      ctx.window.injectedAt = since(ctx);
      pid = await freeze(ctx, fault.service);
    }
    await sleep(Math.max(0, ctx.loadStartedAt + (timing.atS + timing.holdS) * 1000 - Date.now()));
    if (pid) {
      process.kill(pid, 'SIGCONT');
      ctx.ledger.remove({ kind: 'frozen', pid, service: fault.service });
    }
    frozen.clear();
    ctx.window.healedAt = since(ctx);
    ctx.log(`thawed ${fault.service}${pid ? ` pid ${pid}` : ''}`);
  },
  async cleanup() {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen.clear();
  },
  afterConvergence: (ctx, fault, converge) => repairAfterConvergence(ctx, fault.repair, converge),
};

/** A connection over the probe's entrance to an edge, opened before the fault: each timing is one round trip. */
interface Probe {
  time(): Promise<number>;
  close(): Promise<void>;
}

/** gRPC health checks over one connected channel. */
async function healthProbe(port: number, timeoutMs: number): Promise<Probe> {
  const { Health } = loadGrpcObject(HEALTH_V1).grpc.health.v1;
  const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const check = () =>
    new Promise<void>((resolve) =>
      client.Check({ service: '' }, { deadline: Date.now() + timeoutMs }, () => resolve()),
    );
  await check();
  return {
    async time() {
      const started = performance.now();
      await check();
      return performance.now() - started;
    },
    async close() {
      client.close();
    },
  };
}

/** `SELECT 1` on one open connection; the fastest of three is a latency floor, not one unlucky sample. */
async function sqlProbe(url: string): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // A reset fault cuts this very connection: the failed query is the evidence, the 'error' event must not crash us.
  client.on('error', () => undefined);
  await client.connect();
  return {
    async time() {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await client.query('SELECT 1');
        best = Math.min(best, performance.now() - started);
      }
      return best;
    },
    async close() {
      await client.end();
    },
  };
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
  from: 'gateway' | 'orders' | 'notifications';
  env: string;
  port: (l: LabLayout) => number;
  value: (ctx: DriverContext, proxyPort: number) => string;
  /**
   * What the copy behind the proxy runs with besides: on the database edge, no periodic job, so its statements are the
   * requests'.
   */
  quiet?: Record<string, string>;
  /** A connection over the probe's entrance to the same edge. */
  probe: (ctx: DriverContext, proxyPort: number, timeoutMs: number) => Promise<Probe>;
  /** Count Postgres statements on the wire. */
  countStatements?: boolean;
}

const grpcEdge = (env: string, port: (l: LabLayout) => number): Edge => ({
  from: 'gateway',
  env,
  port,
  value: (_ctx, proxyPort) => `127.0.0.1:${proxyPort}`,
  probe: (_ctx, proxyPort, timeoutMs) => healthProbe(proxyPort, timeoutMs),
});

const EDGE_TARGET: Record<string, Edge> = {
  'gateway->recommendations': grpcEdge('RECOMMENDATIONS_GRPC_ADDRESS', (l) => l.ports.recommendationsGrpc),
  'gateway->orders': grpcEdge('ORDERS_GRPC_ADDRESS', (l) => l.ports.ordersGrpc),
  'orders->postgres': {
    from: 'orders',
    env: 'DATABASE_URL',
    port: (l) => l.ports.postgres,
    value: (ctx, proxyPort) => throughProxy(ctx, 'orders', 'DATABASE_URL', proxyPort),
    quiet: { RECONCILIATION_INTERVAL_MS: '3600000', RETENTION_INTERVAL_MS: '86400000', ORDERS_RELEASE_POLL_MS: '1000' },
    probe: (ctx, proxyPort) => sqlProbe(throughProxy(ctx, 'orders', 'DATABASE_URL', proxyPort)),
    countStatements: true,
  },
  // notifications is a consumer: its copy takes the lab's place (held), and its database connections cross the proxy.
  'notifications->postgres': {
    from: 'notifications',
    env: 'DATABASE_URL',
    port: (l) => l.ports.postgres,
    value: (ctx, proxyPort) => throughProxy(ctx, 'notifications', 'DATABASE_URL', proxyPort),
    probe: (ctx, proxyPort) => sqlProbe(throughProxy(ctx, 'notifications', 'DATABASE_URL', proxyPort)),
  },
};

/** The round-trip time a fault adds on an edge, for the probe's proof. */
function addedMs(fault: Extract<LocalFault, { driver: 'proxy' }>['fault']): number {
  if (fault.kind !== 'latency') return 1000;
  return (fault.ms ?? 0) * (fault.direction === 'both' ? 2 : 1);
}

/**
 * Whether a proxy fault really happened, on the services' own traffic and on the probe's round trip. Latency: the
 * proxy held the services' chunks about the fault's latency, and the probe's round trip grew by it over the baseline.
 * Reset: the proxy reset the services' connections, and the probe's open connection failed though it answered before.
 */
export function proveEdgeFault(
  fault: Extract<LocalFault, { driver: 'proxy' }>['fault'],
  m: { before: FaultProxyStats; during: FaultProxyStats; baseline: number; observed: number; probeError?: string },
): { fired: boolean; evidence: (edge: string, probe: string) => string[] } {
  const bytes = m.during.bytesUpstream - m.before.bytesUpstream;
  if (fault.kind === 'reset') {
    const resets = m.during.connectionsReset - m.before.connectionsReset;
    const fired = resets > 0 && Number.isFinite(m.baseline) && m.probeError !== undefined;
    return {
      fired,
      evidence: (edge, probe) => [
        `the proxy reset ${resets} of the services' connections over ${edge} during the fault (they sent ${bytes} bytes meanwhile)`,
        `the probe's ${probe} failed during the fault (${m.probeError ?? 'it did NOT fail'}); it took ${m.baseline.toFixed(1)} ms just before`,
        ...(fired
          ? []
          : [
              `NOT proven: ${[resets > 0 ? '' : 'no connection of the services was reset', m.probeError ? '' : 'the probe went through'].filter(Boolean).join('; ')}`,
            ]),
      ],
    };
  }
  if (fault.kind !== 'latency')
    return { fired: false, evidence: () => [`NOT proven: no proof rule for a ${fault.kind} fault yet`] };
  const held = m.during.heldChunks - m.before.heldChunks;
  const meanHeld = held > 0 ? (m.during.heldMsTotal - m.before.heldMsTotal) / held : 0;
  const perChunk = fault.ms ?? 0;
  const expected = addedMs(fault);
  const trafficHeld = bytes > 0 && held > 0 && meanHeld >= perChunk * 0.8;
  const probeGrew = m.observed - m.baseline >= expected * 0.8;
  return {
    fired: trafficHeld && probeGrew,
    evidence: (edge, probe) => [
      `the services sent ${bytes} bytes over ${edge} during the fault; the proxy held ${held} of their chunks, ${meanHeld.toFixed(1)} ms each on average (fault: latency ${perChunk} ms)`,
      `the probe's ${probe} over the same edge took ${m.observed.toFixed(1)} ms during the fault, ${m.baseline.toFixed(1)} ms just before (expected +${expected} ms)`,
      ...(trafficHeld && probeGrew
        ? []
        : [
            `NOT proven: ${[trafficHeld ? '' : "the services' traffic was not held by the fault", probeGrew ? '' : 'the round trip did not grow by the latency'].filter(Boolean).join('; ')}`,
          ]),
    ],
  };
}

const edgeState: {
  services?: FaultProxy;
  probe?: FaultProxy;
  tally?: PgStatementTally;
  sampler?: NodeJS.Timeout;
  idleSince?: { t: number; n: number };
} = {};

const proxyEdge: Driver<Extract<LocalFault, { driver: 'proxy' }>> = {
  async setup(ctx, fault) {
    const edge = EDGE_TARGET[fault.edge];
    if (!edge) throw new Error(`the local target has no proxy on edge ${fault.edge} yet (kind only)`);
    const target = { host: '127.0.0.1', port: edge.port(ctx.layout) };
    // Two entrances with the same fault: one the services use, one for the runner's probe, counted apart.
    edgeState.tally = edge.countStatements ? new PgStatementTally() : undefined;
    const services = new FaultProxy({
      listen: { host: '127.0.0.1', port: await freePort() },
      target,
      ...(edgeState.tally ? { observe: edgeState.tally.observe } : {}),
    });
    const probe = new FaultProxy({ listen: { host: '127.0.0.1', port: await freePort() }, target });
    await services.start();
    await probe.start();
    ctx.proxies.push(services, probe);
    edgeState.services = services;
    edgeState.probe = probe;
    const value = edge.value(ctx, services.address().port);
    if (edge.from === 'gateway') await startVariantExtras(ctx, { [edge.env]: value });
    else await startVariantExtras(ctx, {}, { [edge.from]: { [edge.env]: value, ...(edge.quiet ?? {}) } });
  },
  async run(ctx, fault, timing) {
    const services = edgeState.services as FaultProxy;
    const probe = edgeState.probe as FaultProxy;
    const edge = EDGE_TARGET[fault.edge];
    const traffic: EdgeTraffic = { edge: fault.edge, samples: [] };
    ctx.edge = traffic;
    const tally = edgeState.tally;
    if (tally) traffic.statements = { atLoadStart: tally.statements, atLoadEnd: tally.statements, idleRatePerS: 0 };
    const record = (s: FaultProxyStats) =>
      traffic.samples.push({
        t: since(ctx),
        bytesUpstream: s.bytesUpstream,
        bytesDownstream: s.bytesDownstream,
        heldChunks: s.heldChunks,
      });
    edgeState.sampler = setInterval(() => record(services.stats()), 100);
    const expected = addedMs(fault.fault);
    const timeout = expected * 3 + 1000;
    await at(ctx, Math.max(0, timing.atS - 0.5));
    // The baseline: the same round trip just before the fault, on a connection opened before it.
    const session = await edge.probe(ctx, probe.address().port, timeout);
    const spec = { ...fault.fault } as Parameters<FaultProxy['set']>[0];
    let baseline = Number.NaN;
    let observed = Number.NaN;
    let probeError: string | undefined;
    let before = services.stats();
    try {
      baseline = Math.min(await session.time(), await session.time());
      await at(ctx, timing.atS);
      before = services.stats();
      if (!ctx.sabotaged) {
        services.set(spec);
        probe.set(spec);
      }
      ctx.window.injectedAt = since(ctx);
      ctx.log(`proxy ${fault.edge}: ${JSON.stringify(spec)}`);
      observed = await session.time().catch((error: Error) => {
        probeError = error.message;
        return Number.NaN;
      });
    } finally {
      await session.close().catch(() => undefined);
    }
    await sleep(Math.max(0, ctx.loadStartedAt + (timing.atS + timing.holdS) * 1000 - Date.now()));
    const during = services.stats();
    services.set({ kind: 'none' });
    probe.set({ kind: 'none' });
    ctx.window.healedAt = since(ctx);
    const probeName = edge.from === 'gateway' ? 'gRPC health check' : 'SELECT 1';
    const proof = proveEdgeFault(fault.fault, { before, during, baseline, observed, probeError });
    ctx.fired = proof.fired;
    ctx.evidence.push(...proof.evidence(fault.edge, probeName));
  },
  async afterLoad(ctx) {
    const tally = edgeState.tally;
    if (!tally || !ctx.edge?.statements) return;
    ctx.edge.statements.atLoadEnd = tally.statements;
    // What the copy sends with no request at all (the release poll), over 2 s, is subtracted from the load's count.
    const idleFrom = { t: Date.now(), n: tally.statements };
    await sleep(2000);
    ctx.edge.statements.idleRatePerS = ((tally.statements - idleFrom.n) * 1000) / (Date.now() - idleFrom.t);
  },
  async cleanup(ctx) {
    clearInterval(edgeState.sampler);
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
      ctx.ledger.add({ kind: 'infra-stopped', component: fault.component });
      await component.stop();
    }
    ctx.window.injectedAt = since(ctx);
    const during = await component.status();
    const port = ctx.layout.ports[fault.component];
    const listening = await portOpen(port);
    ctx.fired = Boolean(before.pid) && !during.pid && !listening;
    ctx.evidence.push(
      `${fault.component}: pid ${before.pid} before, ${during.pid ?? 'none'} during the fault (state ${during.state}); port ${port} ${listening ? 'STILL accepts connections' : 'refuses connections'}`,
    );
    await sleep(Math.max(0, ctx.loadStartedAt + (timing.atS + timing.holdS) * 1000 - Date.now()));
    if (stoppedInfra.has(fault.component)) {
      await component.start(silentProgress);
      ctx.ledger.remove({ kind: 'infra-stopped', component: fault.component });
    }
    stoppedInfra.delete(fault.component);
    ctx.window.healedAt = since(ctx);
    const after = await component.status();
    ctx.evidence.push(`${fault.component} started again as pid ${after.pid}`);
  },
  async cleanup(ctx) {
    for (const name of stoppedInfra)
      await ctx.local
        .infra()
        .find((c) => c.name === name)
        ?.start(silentProgress);
    stoppedInfra.clear();
  },
};

/** The two poisons of poisons.ts on the topic, each acknowledged by every in-sync replica. */
const poisonMessage: Driver<Extract<LocalFault, { driver: 'poison-message' }>> = {
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      ctx.window.healedAt = since(ctx);
      ctx.evidence.push('no poison message was published');
      return;
    }
    const kafka = new Kafka({
      clientId: 'lab-chaos-poison',
      brokers: kafkaBrokers(ctx.layout),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    const poisons: Poison[] = [];
    try {
      let acknowledged = 0;
      const messages = poisonMessages(new Date());
      for (const m of messages) {
        const publishedAt = Date.now();
        const [ack] = await producer.send({
          topic: fault.topic,
          acks: -1,
          messages: [{ key: m.orderId, value: m.value, timestamp: String(publishedAt), headers: m.headers }],
        });
        if (ack?.errorCode !== 0) continue;
        acknowledged++;
        poisons.push({ eventId: m.eventId, kind: m.kind, publishedAt });
        ctx.evidence.push(
          `${m.kind} poison ${m.type} (event ${m.eventId}) acknowledged by the broker on ${fault.topic}:${ack.partition} offset ${ack.baseOffset}`,
        );
      }
      ctx.fired = acknowledged === messages.length;
    } finally {
      await producer.disconnect();
    }
    ctx.facts['poisons'] = poisons;
    ctx.window.healedAt = since(ctx);
  },
  async afterConvergence(ctx, fault, converge) {
    if (!fault.replay) return false;
    ctx.facts['replay'] = await localReplay(ctx, fault.topic, fault.replay.times);
    return converge();
  },
};

/** The replay step through kafkajs and the lab's own Postgres. */
async function localReplay(ctx: DriverContext, topic: string, times: number): Promise<ReplayFacts | undefined> {
  const brokers = kafkaBrokers(ctx.layout);
  const sql = labSql(ctx.layout);
  try {
    return await replayHandlerPoison(
      {
        deadLetters: (t) => listDlq(brokers, [t]),
        replay: async (entry, payload, n) => {
          const landed = [];
          for (let i = 0; i < n; i++) landed.push(await replayDlq(brokers, entry.id, { payload }));
          return landed;
        },
        committed: (group, t) => groupCommitted(brokers, group, t),
        sql: (db, text, params) => sql.query(db, text, params),
      },
      (ctx.facts['poisons'] as Poison[] | undefined) ?? [],
      topic,
      times,
      ctx.log,
    );
  } finally {
    await sql.close();
  }
}

/**
 * A burst of orders beside the experiment's load, from customers of the same run (chaos-<runId>-b-NNN), open model:
 * requests start on schedule however slow the answers. Proof: the generator really offered the rate (it sent, and did
 * not drop for want of sockets, at least 90 % of the planned requests), which nothing in the lab controls.
 */
const overload: Driver<Extract<LocalFault, { driver: 'overload' }>> = {
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    const rate = (ctx.quick ? fault.quickRate : undefined) ?? fault.rate;
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      await sleep(timing.holdS * 1000);
      ctx.window.healedAt = since(ctx);
      ctx.evidence.push('no burst was sent');
      return;
    }
    const burst = await sendBurst(ctx.layout, ctx.baseUrl, `${ctx.runId}-b`, rate, timing.holdS, since(ctx));
    ctx.window.healedAt = since(ctx);
    ctx.extraRecords.push(...burst.records);
    ctx.fired = burst.fired;
    ctx.evidence.push(burst.evidence);
  },
};

/**
 * The overload burst, on either target: `rate` orders/s for `holdS` from 50 customers of the run, open model, its
 * records' times shifted by `offsetMs` (when it started in the experiment's load). Fired when the generator really
 * offered at least 90 % of the planned requests.
 */
export async function sendBurst(
  layout: LabLayout,
  baseUrl: string,
  runId: string,
  rate: number,
  holdS: number,
  offsetMs: number,
): Promise<{ records: RequestRecord[]; fired: boolean; evidence: string }> {
  const planned = Math.round(rate * holdS);
  const burst = await runLoad(labTokenSigner(layout), {
    baseUrl,
    mix: 'orders',
    rate,
    durationS: holdS,
    customers: 50,
    runId,
    maxInFlight: 2000,
  });
  const records = burst.records.map((r) => ({ ...r, t: r.t + offsetMs }));
  const offered = records.filter((r) => r.route !== 'dropped').length;
  const lastStart = Math.max(0, ...records.map((r) => r.t - offsetMs));
  return {
    records,
    fired: offered >= planned * 0.9,
    evidence: `the burst offered ${offered} of ${planned} orders planned at ${rate}/s over ${(lastStart / 1000).toFixed(1)} s (${records.length - offered} dropped by the generator)`,
  };
}

const migrate: Driver<Extract<LocalFault, { driver: 'migrate' }>> = {
  async setup(ctx, fault) {
    await prepareMigration(
      ctx.layout,
      ctx.local,
      ctx.quick ? (fault.quickArchivedOrders ?? fault.archivedOrders) : fault.archivedOrders,
      ctx.log,
    );
  },
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      ctx.window.healedAt = since(ctx);
      return;
    }
    const run = await runMigrationPlan(ctx.layout, ctx.local, fault.plan, {
      lockBudgetMs: fault.lockBudgetMs,
      log: ctx.log,
    });
    ctx.window.healedAt = since(ctx);
    for (const step of run.steps)
      ctx.evidence.push(
        `${step.step} ${step.direction === 'apply' ? 'applied' : 'rolled back'} in ${(step.ms / 1000).toFixed(2)} s`,
      );
    if (run.error) ctx.evidence.push(`migration failed: ${run.error}`);
    // Proof from the database, not from the job's word: the rollout's recorded step and the watch's samples.
    const after = await migrationStatus(ctx.layout, ctx.local);
    const reached = fault.plan === 'naive' ? 'naive' : 'contract';
    ctx.evidence.push(
      `orders table now at step ${String(after['step'])}; ${run.watch.samples} lock samples every ${run.watch.intervalMs} ms`,
    );
    const loadEnd =
      (ctx.experiment.load.quick && ctx.quick
        ? (ctx.experiment.load.quick.durationS ?? ctx.experiment.load.durationS)
        : ctx.experiment.load.durationS) * 1000;
    const outlastedLoadMs = ctx.window.healedAt > loadEnd ? ctx.window.healedAt - loadEnd : undefined;
    if (outlastedLoadMs)
      ctx.evidence.push(`the migration outlasted the load by ${(outlastedLoadMs / 1000).toFixed(1)} s`);
    ctx.facts['migration'] = {
      steps: run.steps,
      watch: run.watch,
      relayLagP99Ms: run.relayLagP99Ms,
      error: run.error,
      ...(outlastedLoadMs ? { outlastedLoadMs } : {}),
    };
    ctx.fired = run.ok && after['step'] === reached && run.watch.samples > 0;
  },
  async cleanup(ctx, fault) {
    // The naive state is a dead end for the online steps: take it back. The online plan leaves the table migrated
    // (`lab migrate status` shows it); the next run's setup rolls it back first.
    if (fault.plan === 'naive') await undoNaive(ctx.layout, ctx.local);
  },
};

/** A TCP connect to host:port, cut at `timeoutMs`: connected, or why not. */
const tcpConnect = (host: string, port: number, timeoutMs = 1000) =>
  new Promise<{ reached: boolean; detail: string }>((resolve) => {
    const socket = connect({ host, port });
    const done = (reached: boolean, detail: string) => {
      socket.destroy();
      resolve({ reached, detail });
    };
    socket.once('connect', () => done(true, 'connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(false, error.code ?? error.message));
    socket.setTimeout(timeoutMs, () => done(false, `no answer in ${timeoutMs} ms`));
  });

/**
 * Every listening port of the lab's services, tried from the machine's own network addresses (where anyone on the
 * network would connect) and, as a control, on loopback, where the lab's own callers connect.
 */
async function localBypass(ctx: DriverContext): Promise<BypassProbe[]> {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80'))
    .map((a) => (a as { address: string }).address);
  const ports = ctx.local
    .services()
    .flatMap((s) => [
      { name: `${s.name} http`, port: s.httpPort },
      ...(s.grpcPort ? [{ name: `${s.name} grpc`, port: s.grpcPort }] : []),
    ]);
  const probes: BypassProbe[] = [];
  for (const { name, port } of ports) {
    const loop = await tcpConnect('127.0.0.1', port);
    probes.push({
      from: 'loopback',
      to: `${name} :${port}`,
      reached: loop.reached,
      control: true,
      detail: loop.detail,
    });
    for (const address of addresses) {
      const r = await tcpConnect(address, port);
      probes.push({
        from: `the network (${address})`,
        to: `${name} :${port}`,
        reached: r.reached,
        control: false,
        detail: r.detail,
      });
    }
  }
  return probes;
}

function localAttackTarget(ctx: DriverContext): AttackTarget {
  const sql = labSql(ctx.layout);
  return {
    baseUrl: ctx.baseUrl,
    signingKeyPem: () => readFileSync(jwtPrivateKeyFile(ctx.layout), 'utf8'),
    victims: async () =>
      (
        await sql
          .query(
            'orders',
            'SELECT id::text AS id, customer_id FROM orders WHERE customer_id LIKE $1 AND customer_id NOT LIKE $2 ORDER BY created_at DESC LIMIT 200',
            [`chaos-${ctx.runId}-%`, `chaos-${ctx.runId}-x-%`],
          )
          .finally(() => sql.close())
      ).map((r) => ({ id: String(r['id']), customer: String(r['customer_id']) })),
    revoke: (jti, expiresAtS) => revokeJti(ctx.layout, jti, expiresAtS),
    rotation: {
      rotate: async () => void (await rotateKeys(ctx.layout)),
      retire: async () => void (await retireKeys(ctx.layout)),
    },
    bypass: () => localBypass(ctx),
    log: ctx.log,
  };
}

/**
 * The attacker beside the customers' load (attack.ts): before the load the signing key is rotated (the customers'
 * tokens are signed with the new key; the attacker keeps one of the previous key), during the hold `rate` attempts a
 * second, then the ports tried around the gateway. Proof: the gateway answered the attempts (90 % of those planned).
 */
const attack: Driver<Extract<LocalFault, { driver: 'attack' }>> = {
  async setup(ctx) {
    await startVariantExtras(ctx, {});
  },
  async beforeLoad(ctx) {
    if (ctx.sabotaged) return;
    ctx.facts['attackPreparation'] = await prepareAttack(localAttackTarget(ctx), ctx.runId);
  },
  async run(ctx, fault, timing) {
    await at(ctx, timing.atS);
    ctx.window.injectedAt = since(ctx);
    if (ctx.sabotaged) {
      await sleep(timing.holdS * 1000);
      ctx.window.healedAt = since(ctx);
      ctx.evidence.push('no attack was made (sabotage)');
      return;
    }
    const prepared = (ctx.facts['attackPreparation'] as AttackPreparation | undefined) ?? { controls: [] };
    const facts = await runAttack(
      localAttackTarget(ctx),
      ctx.runId,
      prepared,
      fault.rate,
      timing.holdS,
      ctx.loadStartedAt,
    );
    ctx.window.healedAt = since(ctx);
    ctx.facts['attack'] = facts;
    const proof = attackProof(facts, fault.rate, timing.holdS);
    ctx.fired = proof.fired;
    ctx.evidence.push(...proof.evidence);
  },
};

export const LOCAL_DRIVER_IMPLEMENTATIONS: Record<LocalFault['driver'], Driver<never>> = {
  'kill-process': killProcess,
  'freeze-process': freezeProcess,
  proxy: proxyEdge,
  'infra-stop': infraStop,
  'poison-message': poisonMessage,
  overload,
  attack,
  migrate,
};

export function driverFor(fault: LocalFault): Driver<LocalFault> {
  return LOCAL_DRIVER_IMPLEMENTATIONS[fault.driver] as unknown as Driver<LocalFault>;
}
