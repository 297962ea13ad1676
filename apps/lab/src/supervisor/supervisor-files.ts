import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import type { ServiceOverrides, ServiceSpec } from '../topology/lab-services';

/** What the CLI hands the supervisor: the services to run and the node binary to run them with. */
export interface SupervisorPlan {
  node: string;
  /** `lab up --set service.VAR=value` settings this lab was started with. */
  overrides: ServiceOverrides;
  root: string;
  logDir: string;
  services: (ServiceSpec & { entry: string })[];
}

export interface SupervisedServiceState {
  pid: number | null;
  /** `held`: stopped on purpose and not restarted while a chaos run puts a variant in its place (see holds). */
  state: 'running' | 'backoff' | 'stopped' | 'held';
  restarts: number;
  lastStartedAt: string | null;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
}

/** What the supervisor reports, rewritten atomically on every change; `lab status` reads it. */
export interface SupervisorState {
  pid: number;
  startedAt: string;
  services: Record<string, SupervisedServiceState>;
}

/**
 * Services the supervisor must keep stopped, each with why (a chaos run's variant takes its place); SIGUSR2 re-reads.
 */
export type SupervisorHolds = Record<string, string>;

export const supervisorFiles = (layout: LabLayout) => ({
  plan: join(layout.runDir, 'supervisor-plan.json'),
  holds: join(layout.runDir, 'supervisor-holds.json'),
  state: join(layout.runDir, 'supervisor-state.json'),
  pid: join(layout.runDir, 'supervisor.pid'),
  log: join(layout.logDir, 'supervisor.log'),
});

/** The marker on the supervisor's command line that proves a pid is still our supervisor. */
export const SUPERVISOR_MARKER = 'apps/lab/src/supervisor/supervisor-main.js';

export function writeJsonAtomically(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(value, null, 2) + '\n');
  renameSync(temp, file);
}

export function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
