import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  SupervisedServiceState,
  SupervisorHolds,
  SupervisorPlan,
  SupervisorState,
  writeJsonAtomically,
} from './supervisor-files';

/**
 * Restart policy, like a pod's restartPolicy: Always with CrashLoopBackOff. The delay doubles from 500 ms up to
 * 10 s while a service keeps crashing, and resets once it has stayed up for 30 s, so a one-off kill (a chaos
 * experiment) is healed within a second while a broken configuration does not spin the CPU.
 */
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const STABLE_AFTER_MS = 30_000;
/** How long a service gets to shut down gracefully on `lab down` before SIGKILL; its own failsafe is 20 s. */
const STOP_GRACE_MS = 25_000;

interface Running {
  child: ChildProcess | null;
  state: SupervisedServiceState;
  failures: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly plan: SupervisorPlan,
    private readonly stateFile: string,
    private readonly log: (message: string) => void,
  ) {}

  start(): void {
    for (const service of this.plan.services) {
      this.running.set(service.name, {
        child: null,
        failures: 0,
        startedAt: 0,
        state: { pid: null, state: 'stopped', restarts: 0, lastStartedAt: null, lastExit: null },
      });
      this.launch(service.name);
    }
  }

  /**
   * Keeps the services named in `holds` stopped (SIGTERM, no restart) and starts again the ones no longer named: a
   * chaos run replaces a service by a variant for its duration this way, and the lab is whole again afterwards.
   */
  applyHolds(holds: SupervisorHolds): void {
    for (const [name, entry] of this.running) {
      const held = name in holds;
      if (held && entry.state.state !== 'held') {
        clearTimeout(entry.timer);
        entry.state = { ...entry.state, state: 'held' };
        this.log(`holding ${name}: ${holds[name]}`);
        const child = entry.child;
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        else this.persist();
      } else if (!held && entry.state.state === 'held') {
        this.log(`releasing ${name}`);
        entry.failures = 0;
        entry.state = { ...entry.state, state: entry.child ? 'running' : 'stopped' };
        if (!entry.child) this.launch(name);
      }
    }
    this.persist();
  }

  private launch(name: string): void {
    const service = this.plan.services.find((s) => s.name === name);
    const entry = this.running.get(name);
    if (!service || !entry || this.stopping || entry.state.state === 'held') return;
    const logFile = join(this.plan.logDir, `${name}.log`);
    const out = openSync(logFile, 'a');
    const child = spawn(this.plan.node, ['--enable-source-maps', service.entry], {
      cwd: this.plan.root,
      env: { ...process.env, ...service.env, FAULTLINE_COMPONENT: name },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    entry.child = child;
    entry.startedAt = Date.now();
    entry.state = { ...entry.state, pid: child.pid ?? null, state: 'running', lastStartedAt: new Date().toISOString() };
    this.log(`started ${name} (pid ${child.pid})`);
    this.persist();
    child.on('exit', (code, signal) => this.onExit(name, child, code, signal));
    child.on('error', (error) => this.log(`${name}: could not start: ${error.message}`));
  }

  private onExit(name: string, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const entry = this.running.get(name);
    if (!entry || entry.child !== child) return;
    entry.child = null;
    entry.state = { ...entry.state, pid: null, lastExit: { code, signal, at: new Date().toISOString() } };
    if (entry.state.state === 'held') {
      this.log(`${name} stopped (held)`);
      this.persist();
      return;
    }
    if (this.stopping) {
      entry.state.state = 'stopped';
      this.persist();
      return;
    }
    const ranFor = Date.now() - entry.startedAt;
    entry.failures = ranFor >= STABLE_AFTER_MS ? 1 : entry.failures + 1;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** (entry.failures - 1));
    entry.state = { ...entry.state, state: 'backoff', restarts: entry.state.restarts + 1 };
    this.log(`${name} exited (code ${code}, signal ${signal}) after ${ranFor} ms; restarting in ${delay} ms`);
    this.persist();
    entry.timer = setTimeout(() => this.launch(name), delay);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const [name, entry] of this.running) {
      clearTimeout(entry.timer);
      const child = entry.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        entry.state.state = 'stopped';
        continue;
      }
      exits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => {
            this.log(`${name} did not stop within ${STOP_GRACE_MS} ms; sending SIGKILL`);
            child.kill('SIGKILL');
          }, STOP_GRACE_MS);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(exits);
    this.persist();
    this.log('all services stopped');
  }

  private persist(): void {
    const state: SupervisorState = {
      pid: process.pid,
      startedAt: this.startedAt,
      services: Object.fromEntries([...this.running].map(([name, entry]) => [name, entry.state])),
    };
    writeJsonAtomically(this.stateFile, state);
  }
}
