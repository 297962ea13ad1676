import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { generateSigningKeys } from '@faultline/auth';
import { ComponentStatus, createInfra, InfraComponent, kafkaBrokers, postgresUrl, redisUrl } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { isOurs, livePid, readPidFile, removePidFile, spawnDetached, stopProcess, tailFile } from '../process/pid-file';
import type { Progress } from '../process/progress';
import type { ServiceOverrides } from '../topology/lab-services';
import { waitFor } from '../process/wait-for';
import {
  readJson,
  SUPERVISOR_MARKER,
  supervisorFiles,
  SupervisorHolds,
  SupervisorPlan,
  SupervisorState,
  writeJsonAtomically,
} from '../supervisor/supervisor-files';
import { appEntry, jwtPrivateKeyFile, jwtPublicKeyFile, labServices, ServiceSpec } from '../topology/lab-services';

/** How long `lab up` waits for every service to become ready: a cold Nest start on 2 busy cores takes a few seconds. */
const SERVICES_READY_TIMEOUT_MS = 120_000;
/** One readiness request from `lab status`; services answer /readyz within their own 800 ms probe budget. */
const STATUS_HTTP_TIMEOUT_MS = 1500;

/**
 * The `local` run target: the lab's own infrastructure started from installed binaries, and every service as a
 * supervised process (restarted on exit, like a pod), all under the state folder of `layout`.
 */
export class LocalTarget {
  constructor(private readonly layout: LabLayout) {}

  /**
   * The services with their environment. While the lab runs, that is what its supervisor was started with
   * (including `lab up --set` overrides); otherwise the defaults with `overrides` applied.
   */
  services(overrides: ServiceOverrides = this.runningOverrides()): ServiceSpec[] {
    const services = labServices(this.layout, {
      postgresUrl: (db) => postgresUrl(this.layout, db),
      redisUrl: redisUrl(this.layout),
      kafkaBrokers: kafkaBrokers(this.layout),
    });
    for (const name of Object.keys(overrides)) {
      if (!services.some((s) => s.name === name))
        throw new LabError(
          'lab',
          `--set names an unknown service "${name}"; known: ${services.map((s) => s.name).join(', ')}`,
        );
    }
    return services.map((s) => ({ ...s, env: { ...s.env, ...overrides[s.name] } }));
  }

  private runningOverrides(): ServiceOverrides {
    if (!livePid(supervisorFiles(this.layout).pid)) return {};
    return readJson<SupervisorPlan>(supervisorFiles(this.layout).plan)?.overrides ?? {};
  }

  infra(): InfraComponent[] {
    const targets = this.services().map((s) => ({ job: s.name, instance: `127.0.0.1:${s.httpPort}` }));
    return createInfra(this.layout, targets);
  }

  async up(progress: Progress, overrides: ServiceOverrides = {}): Promise<void> {
    this.checkBuilt();
    this.services(overrides); // refuse an unknown service name before starting anything
    // Each component reports its own progress (started, reused or skipped) as it goes.
    for (const component of this.infra()) await component.start(progress);
    this.ensureSigningKeys(progress);
    this.startSupervisor(progress, overrides);
    await this.awaitServicesReady(progress);
  }

  async down(progress: Progress): Promise<void> {
    const files = supervisorFiles(this.layout);
    const record = readPidFile(files.pid);
    if (record && isOurs(record.pid, record.marker)) {
      progress.step('supervisor', `stopping services (pid ${record.pid})`);
      await stopProcess(record.pid, record.marker, 40_000);
    }
    // If the supervisor was killed outright its children live on: stop any service pid it recorded.
    const state = readJson<SupervisorState>(files.state);
    for (const [name, service] of Object.entries(state?.services ?? {})) {
      const spec = this.services().find((s) => s.name === name);
      if (service.pid && spec && isOurs(service.pid, appEntry(this.layout, spec.app))) {
        progress.step(name, `stopping orphaned pid ${service.pid}`);
        await stopProcess(service.pid, appEntry(this.layout, spec.app));
      }
    }
    removePidFile(files.pid);
    progress.done('services', 'stopped');
    for (const component of [...this.infra()].reverse()) {
      const before = await component.status();
      await component.stop();
      if (before.pid) progress.done(component.name, `stopped (was pid ${before.pid})`);
    }
  }

  async status(): Promise<ComponentStatus[]> {
    const infra = await Promise.all(this.infra().map((c) => c.status()));
    const files = supervisorFiles(this.layout);
    const supervisorPid = livePid(files.pid) ?? null;
    const state = supervisorPid ? readJson<SupervisorState>(files.state) : undefined;
    const supervisor: ComponentStatus = {
      name: 'supervisor',
      kind: 'supervisor',
      state: supervisorPid ? 'running' : 'stopped',
      pid: supervisorPid,
      port: null,
      healthy: supervisorPid !== null,
      log: files.log,
    };
    const services = await Promise.all(
      this.services().map(async (spec): Promise<ComponentStatus> => {
        const entry = state?.services[spec.name];
        const pid = entry?.pid && isOurs(entry.pid, appEntry(this.layout, spec.app)) ? entry.pid : null;
        const base = {
          name: spec.name,
          kind: 'service' as const,
          pid,
          port: spec.httpPort,
          log: `${this.layout.logDir}/${spec.name}.log`,
          url: spec.url,
          restarts: entry?.restarts ?? 0,
        };
        if (!pid)
          return {
            ...base,
            state: entry?.state === 'backoff' ? 'starting' : entry?.state === 'held' ? 'held' : 'stopped',
            healthy: false,
          };
        const readiness = await this.readiness(spec);
        return readiness.ok
          ? { ...base, state: 'running', healthy: true }
          : { ...base, state: 'unhealthy', healthy: false, detail: readiness.detail };
      }),
    );
    return [...infra, supervisor, ...services];
  }

  /**
   * Stops a supervised service and keeps it stopped (`why` is logged), or lets the supervisor start it again: a chaos
   * run puts a variant of the service in its place meanwhile. Resolves once the supervisor reports it done.
   */
  async hold(name: string, why: string | undefined): Promise<void> {
    const files = supervisorFiles(this.layout);
    const supervisor = livePid(files.pid);
    if (!supervisor) throw new LabError('supervisor', 'not running: start the lab with `lab up`');
    const holds = readJson<SupervisorHolds>(files.holds) ?? {};
    if (why === undefined) delete holds[name];
    else holds[name] = why;
    writeJsonAtomically(files.holds, holds);
    process.kill(supervisor, 'SIGUSR2');
    await waitFor(
      async () => {
        const entry = readJson<SupervisorState>(files.state)?.services[name];
        return why === undefined
          ? entry?.state === 'running' && entry.pid !== null
          : entry?.state === 'held' && entry.pid === null;
      },
      {
        description: `the supervisor to ${why === undefined ? 'start' : 'hold'} ${name}`,
        timeoutMs: 40_000,
        intervalMs: 100,
      },
    );
    const spec = this.services().find((s) => s.name === name);
    if (why === undefined && spec)
      await waitFor(async () => (await this.readiness(spec)).ok, {
        description: `${name} to be ready again`,
        timeoutMs: SERVICES_READY_TIMEOUT_MS,
        intervalMs: 300,
      });
  }

  private checkBuilt(): void {
    const missing = this.services().filter((s) => !existsSync(appEntry(this.layout, s.app)));
    if (missing.length > 0) {
      throw new LabError(
        'build',
        `${missing.map((s) => s.app).join(', ')} not built (no ${appEntry(this.layout, missing[0].app)}); run \`make setup\` or \`npm run build\``,
      );
    }
  }

  /** The JWT key pair `lab token` signs with and the gateway verifies with; made once per state folder. */
  private ensureSigningKeys(progress: Progress): void {
    if (existsSync(jwtPrivateKeyFile(this.layout)) && existsSync(jwtPublicKeyFile(this.layout))) return;
    mkdirSync(this.layout.secretsDir, { recursive: true, mode: 0o700 });
    const keys = generateSigningKeys();
    writeFileSync(jwtPrivateKeyFile(this.layout), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(jwtPublicKeyFile(this.layout), keys.publicKeyPem, { mode: 0o644 });
    progress.done('secrets', `generated the JWT signing key pair in ${this.layout.secretsDir}`);
  }

  private startSupervisor(progress: Progress, overrides: ServiceOverrides): void {
    const files = supervisorFiles(this.layout);
    const running = livePid(files.pid);
    if (running) {
      const current = this.runningOverrides();
      if (JSON.stringify(current) !== JSON.stringify(overrides)) {
        throw new LabError(
          'supervisor',
          `already running with other settings (${JSON.stringify(current)}); run \`lab down\` first to change them`,
        );
      }
      progress.done('supervisor', `already running (pid ${running}), reused`);
      return;
    }
    const plan: SupervisorPlan = {
      node: process.execPath,
      root: this.layout.root,
      logDir: this.layout.logDir,
      overrides,
      services: this.services(overrides).map((s) => ({ ...s, entry: appEntry(this.layout, s.app) })),
    };
    writeJsonAtomically(files.plan, plan);
    const pid = spawnDetached({
      command: process.execPath,
      args: [`${this.layout.root}/dist/${SUPERVISOR_MARKER}`],
      logFile: files.log,
      pidFile: files.pid,
      marker: SUPERVISOR_MARKER,
      cwd: this.layout.root,
      env: {
        ...process.env,
        LAB_STATE_DIR: this.layout.stateDir,
        LAB_PORT_OFFSET: `${this.layout.portOffset}`,
        LAB_GATEWAY_PORT: `${this.layout.ports.gateway}`,
      },
    });
    progress.done('supervisor', `started (pid ${pid}), running ${plan.services.length} services`);
  }

  private async awaitServicesReady(progress: Progress): Promise<void> {
    const pending = new Set(this.services().map((s) => s.name));
    const files = supervisorFiles(this.layout);
    let lastReport = 0;
    try {
      await waitFor(
        async () => {
          await Promise.all(
            this.services()
              .filter((s) => pending.has(s.name))
              .map(async (s) => {
                if ((await this.readiness(s)).ok) {
                  pending.delete(s.name);
                  progress.done(s.name, `ready on :${s.httpPort}${s.grpcPort ? ` (gRPC :${s.grpcPort})` : ''}`);
                }
              }),
          );
          if (pending.size > 0 && Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            progress.step('services', `waiting for ${[...pending].join(', ')}`);
          }
          return pending.size === 0;
        },
        {
          description: 'services to become ready',
          timeoutMs: SERVICES_READY_TIMEOUT_MS,
          intervalMs: 300,
          abortIf: () => (livePid(files.pid) ? undefined : 'the supervisor exited'),
        },
      );
    } catch (error) {
      const name = [...pending][0] ?? 'supervisor';
      const log = name === 'supervisor' ? files.log : `${this.layout.logDir}/${name}.log`;
      const state = readJson<SupervisorState>(files.state)?.services[name];
      const restarts = state?.restarts ? `; restarted ${state.restarts} times` : '';
      throw new LabError(name, `not ready: ${(error as Error).message}${restarts}\n${tailFile(log, 10)}`, log);
    }
  }

  private async readiness(spec: ServiceSpec): Promise<{ ok: boolean; detail?: string }> {
    try {
      const response = await fetch(`http://127.0.0.1:${spec.httpPort}/readyz`, {
        signal: AbortSignal.timeout(STATUS_HTTP_TIMEOUT_MS),
      });
      if (response.ok) return { ok: true };
      const body = (await response.json().catch(() => ({}))) as {
        checks?: { name: string; ok: boolean; error?: string }[];
      };
      const failing = (body.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`);
      return { ok: false, detail: failing.join('; ') || `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }
}
