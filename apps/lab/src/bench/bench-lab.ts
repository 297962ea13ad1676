// The bench lab (.lab/bench, ports +3600 unless LAB_STATE_DIR / LAB_PORT_OFFSET say otherwise): brought up by the
// suite with the rate limits out of the way (the limiter is measured on its own), and brought down again only if the
// suite started it. Extra processes a scenario needs (a second gateway, a naive orders) are spawned here on free
// ports and stopped by pid.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { FaultProxy } from '@faultline/fault-proxy';
import { mintToken } from '../access/access-tokens';
import { postgresUrl } from '../infra/infra';
import { LabLayout, resolveLayout } from '../layout/lab-layout';
import { LocalTarget } from '../local/local-target';
import { processState } from '../process/pid-file';
import type { Progress } from '../process/progress';
import { waitFor } from '../process/wait-for';
import { awaitQuietMachine } from './bench-machine';
import { appEntry, ServiceOverrides } from '../topology/lab-services';

export const BENCH_STATE_DIR = '.lab/bench';
export const BENCH_PORT_OFFSET = '3600';

/**
 * Limits far above anything the suite sends: the order and read paths are measured, not the limiter nor the admission
 * rate.
 */
export const UNLIMITED_GATEWAY: Record<string, string> = {
  ...Object.fromEntries(
    ['FREE', 'PAID'].flatMap((t) =>
      ['READ', 'WRITE'].flatMap((k) => [
        [`RATE_LIMIT_${t}_${k}_BURST`, '100000'],
        [`RATE_LIMIT_${t}_${k}_PER_MINUTE`, '6000000'],
      ]),
    ),
  ),
  SHED_MAX_WRITES_PER_S: '0',
};
const OVERRIDES: ServiceOverrides = { gateway: UNLIMITED_GATEWAY };

export function benchLayout(env: NodeJS.ProcessEnv = process.env): LabLayout {
  return resolveLayout({
    ...env,
    LAB_STATE_DIR: env['LAB_STATE_DIR'] || BENCH_STATE_DIR,
    LAB_PORT_OFFSET: env['LAB_PORT_OFFSET'] || BENCH_PORT_OFFSET,
    LAB_GATEWAY_PORT: '',
  });
}

/** The second gateway's breaker window (BREAKER_ROLLING_WINDOW_MS, the gateway's default, pinned here). */
export const BREAKER_WINDOW_MS = 10_000;
/**
 * The second gateway's deadline on recommendations calls (RECOMMENDATIONS_GRPC_DEADLINE_MS, its default, pinned here).
 */
export const RECOMMENDATIONS_DEADLINE_MS = 300;

/** The services whose memory the suite reports, as `lab status` names them. */
export const BENCH_SERVICES = [
  'gateway',
  'orders',
  'inventory',
  'recommendations',
  'notifications',
  'outbox-relay-orders',
  'outbox-relay-inventory',
] as const;

export interface SecondGateway {
  url: string;
  recommendationsProxy: FaultProxy;
}

export class BenchLab {
  readonly target: LocalTarget;
  readonly gateway: string;
  private startedLab = false;
  private readonly children = new Set<ChildProcess>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly clients = new Map<string, Promise<Client>>();
  private second?: Promise<SecondGateway>;
  private closing?: Promise<void>;

  constructor(
    readonly layout: LabLayout,
    private readonly progress: Progress,
  ) {
    this.target = new LocalTarget(layout);
    this.gateway = `http://127.0.0.1:${layout.ports.gateway}`;
  }

  /**
   * Starts the lab unless its supervisor already runs; a running bench lab is reused (and left up), provided it runs
   * with the suite's settings (LocalTarget refuses otherwise, naming them).
   */
  async up(): Promise<void> {
    const supervisor = (await this.target.status()).find((c) => c.name === 'supervisor');
    this.startedLab = supervisor?.state !== 'running';
    this.progress.step(
      'bench',
      `${this.startedLab ? 'bringing up' : 'reusing'} the bench lab (${this.layout.stateDir}, ports +${this.layout.portOffset})`,
    );
    await this.target.up(this.progress, OVERRIDES);
    // Every repetition orders from the same catalogue: enough stock that no run turns into a run of rejections.
    await this.sql('inventory', 'UPDATE products SET available = 1000000');
  }

  /** Registers something to undo at the end, whatever happens (a frozen process to thaw, a proxy to stop). */
  onCleanup(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /** Undoes everything the suite did (once, however often it is called: the end of main and a signal may race). */
  close(keep: boolean): Promise<void> {
    this.closing ??= this.closeOnce(keep);
    return this.closing;
  }

  private async closeOnce(keep: boolean): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    this.cleanups.length = 0;
    await Promise.all([...this.children].map((child) => this.stopChild(child)));
    await Promise.all([...this.clients.values()].map(async (c) => (await c).end().catch(() => undefined)));
    this.clients.clear();
    if (this.startedLab && !keep) await this.target.down(this.progress);
    else this.progress.done('bench', `left the bench lab running (${keep ? '--keep' : 'it was running before'})`);
  }

  /** One connection per database, opened on first use (the suite's own reads and setup writes). */
  async sql<T = Record<string, unknown>>(database: string, text: string, params: unknown[] = []): Promise<T[]> {
    let client = this.clients.get(database);
    if (!client) {
      const c = new Client({ connectionString: postgresUrl(this.layout, database) });
      // Dropped under it (a scratch database dropped WITH (FORCE)) or the server restarted: the next query reconnects.
      c.on('error', () => this.clients.delete(database));
      client = c.connect().then(() => c);
      this.clients.set(database, client);
    }
    return (await (await client).query(text, params)).rows as T[];
  }

  /**
   * Brings the lab to the same state before every measured run: dead rows vacuumed and statistics fresh in every
   * database (so autovacuum does not wake up inside some runs and not others), dirty pages written out (so no
   * checkpoint lands inside a run), then the machine quiet again (the saga's tail, Kafka and Postgres writing back).
   */
  async settle(area: string): Promise<void> {
    const databases = await this.sql<{ datname: string }>(
      'postgres',
      'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
    );
    for (const { datname } of databases) await this.sql(datname, 'VACUUM (ANALYZE)');
    await this.sql('postgres', 'CHECKPOINT');
    await awaitQuietMachine(this.progress, area);
  }

  tokens(count: number, prefix: string, role: 'customer' | 'admin' = 'customer'): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        mintToken(this.layout, { sub: `${prefix}-${i}`, role, tier: 'paid', ttl: '7200' }),
      ),
    );
  }

  /** The pid the supervisor runs a service as. */
  async pidOf(service: string): Promise<number> {
    const status = (await this.target.status()).find((c) => c.name === service);
    if (!status?.pid) throw new Error(`${service} is not running in the bench lab`);
    return status.pid;
  }

  /**
   * Freezes these processes (SIGSTOP) and resolves once the kernel says every one is stopped; the returned function
   * thaws them (SIGCONT), and so does the suite's cleanup if a run fails first. Nothing a frozen process holds is lost:
   * it carries on where it stopped. `what` names them in a timeout.
   */
  async freeze(pids: readonly number[], what: string): Promise<() => void> {
    let frozen = true;
    const thaw = () => {
      if (!frozen) return;
      frozen = false;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // Gone already (restarted, or the lab went down): nothing left to thaw.
        }
      }
    };
    this.onCleanup(thaw);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(async () => pids.every((pid) => processState(pid) === 'T'), {
        description: `${what} to stop on SIGSTOP`,
        timeoutMs: 5000,
        intervalMs: 10,
      });
    } catch (error) {
      thaw();
      throw error;
    }
    return thaw;
  }

  /**
   * Restarts these services of the lab (SIGTERM; the supervisor starts each again, as it would a crashed pod) and
   * resolves once every one runs as a new process and answers ready.
   */
  async restartServices(names: readonly string[]): Promise<void> {
    const old = new Map(await Promise.all(names.map(async (name) => [name, await this.pidOf(name)] as const)));
    for (const pid of old.values()) process.kill(pid, 'SIGTERM');
    await waitFor(
      async () => {
        const status = await this.target.status();
        return names.every((name) => {
          const s = status.find((c) => c.name === name);
          return s?.healthy === true && s.pid !== null && s.pid !== old.get(name);
        });
      },
      {
        description: `${names.join(', ')} to run again as new processes and answer ready`,
        timeoutMs: 120_000,
        intervalMs: 250,
      },
    );
  }

  /**
   * A second copy of a lab service (same environment as the lab gives it, `lab env`), with `env` on top, on free
   * ports; resolves once it is ready.
   */
  async spawnService(
    name: string,
    env: Record<string, string>,
    ports?: { httpPort: number; grpcPort: number },
  ): Promise<{ httpPort: number; grpcPort: number; child: ChildProcess }> {
    const spec = this.target.services().find((s) => s.name === name);
    if (!spec) throw new Error(`no service ${name}`);
    const { httpPort, grpcPort } = ports ?? { httpPort: await freePort(), grpcPort: await freePort() };
    mkdirSync(this.layout.logDir, { recursive: true });
    const logFile = join(this.layout.logDir, `bench-${name}-${httpPort}.log`);
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, [appEntry(this.layout, spec.app)], {
      env: {
        ...spec.env,
        PATH: process.env['PATH'] ?? '',
        LAB_STATE_DIR: this.layout.stateDir,
        LOG_LEVEL: 'warn',
        HTTP_PORT: `${httpPort}`,
        GRPC_PORT: `${grpcPort}`,
        ...env,
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.children.add(child);
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `exited (${signal ?? code})`;
      this.children.delete(child);
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok, {
      description: `the bench's extra ${name} to be ready (log: ${logFile})`,
      timeoutMs: 90_000,
      intervalMs: 200,
      abortIf: () => exited,
    });
    return { httpPort, grpcPort, child };
  }

  /**
   * The second gateway two areas measure through, started once (both processes at the same time, to save a cold
   * start): same settings as the lab's gateway, but recommendations reached through a fault proxy and orders served
   * by a second orders with ORDERS_LIST=naive.
   */
  secondGateway(): Promise<SecondGateway> {
    this.second ??= (async () => {
      const spec = (name: string) => this.target.services().find((s) => s.name === name);
      const proxy = new FaultProxy({
        listen: { host: '127.0.0.1', port: 0 },
        target: { host: '127.0.0.1', port: Number(spec('recommendations')?.grpcPort) },
      });
      await proxy.start();
      this.onCleanup(() => proxy.stop());
      const naiveOrders = { httpPort: await freePort(), grpcPort: await freePort() };
      const [, gateway] = await Promise.all([
        this.spawnService('orders', { ORDERS_LIST: 'naive' }, naiveOrders),
        this.spawnService('gateway', {
          RECOMMENDATIONS_GRPC_ADDRESS: `127.0.0.1:${proxy.address().port}`,
          ORDERS_GRPC_ADDRESS: `127.0.0.1:${naiveOrders.grpcPort}`,
          // The recommendations area waits this window out between its phases.
          BREAKER_ROLLING_WINDOW_MS: String(BREAKER_WINDOW_MS),
          RECOMMENDATIONS_GRPC_DEADLINE_MS: String(RECOMMENDATIONS_DEADLINE_MS),
        }),
      ]);
      return { url: `http://127.0.0.1:${gateway.httpPort}`, recommendationsProxy: proxy };
    })();
    return this.second;
  }

  async stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.children.delete(child);
  }
}

/** A port the kernel just had free (closed again at once; good enough for a process started right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Resident set size of a process in MiB (VmRSS in /proc), NaN once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
