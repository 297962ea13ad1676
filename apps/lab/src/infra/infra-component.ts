import { Progress } from '../process/progress';

export type ComponentKind = 'infra' | 'service' | 'supervisor';
/** `held`: a service the supervisor keeps stopped while a chaos run's variant takes its place. */
export type ComponentState = 'running' | 'stopped' | 'starting' | 'unhealthy' | 'unavailable' | 'held';

/** One line of `lab status`: what a component is, whether it runs, and where. */
export interface ComponentStatus {
  name: string;
  kind: ComponentKind;
  state: ComponentState;
  pid: number | null;
  port: number | null;
  healthy: boolean;
  /** Why it is not healthy, or which binary is missing. */
  detail?: string;
  log: string;
  url?: string;
  restarts?: number;
}

export type StartResult = { reused: boolean; pid: number } | { unavailable: string };

/**
 * A dependency the lab owns (Postgres, Redis, Kafka, Prometheus). Infrastructure is NOT supervised: chaos
 * experiments stop it on purpose, and it must stay stopped until they heal it.
 */
export interface InfraComponent {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  /**
   * Idempotent: a running instance is reused. Resolves once the component answers a real request. A missing
   * binary fails with one line saying what to install (or, for optional components, resolves `unavailable`).
   */
  start(progress: Progress): Promise<StartResult>;
  /** Stops exactly the process this lab started (by pid); a no-op when it is not running. */
  stop(): Promise<void>;
  status(): Promise<ComponentStatus>;
}
