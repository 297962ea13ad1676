// A chaos run's journal: everything the run did and found, as the report (report.ts) and comparisons of runs read it.
import type { CheckResult } from './checks';
import type { Experiment } from './experiment-schema';
import type { summarize } from '@faultline/load';
import type { DbSample } from './evidence';
import type { Verdict } from './verdict';

export interface RunJournal {
  id: string;
  runId: string;
  target: 'local' | 'kind';
  quick: boolean;
  sabotaged: boolean;
  experiment: Experiment;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  verdict: Verdict;
  /** A naive experiment that failed exactly on the checks its bug must fail. */
  asDesigned: boolean;
  expected: 'pass' | 'fail';
  reason: string;
  steadyState: { probe: string; ok: boolean; detail: string }[];
  /** The same probes once the fault was healed and the pipeline converged. */
  steadyStateAfter: { probe: string; ok: boolean; detail: string }[];
  fault: { driver: string; fired: boolean; evidence: string[]; window: { injectedAt?: number; healedAt?: number } };
  convergence: { waitedS: number; converged: boolean };
  checks: CheckResult[];
  load: { sent: number; summary: ReturnType<typeof summarize> };
  dbSamples: DbSample[];
  events: { t: string; message: string }[];
  reportDir?: string;
  /** On kind: the run's Grafana panels at its time window and Jaeger searches (its orders among them), as URLs. */
  links?: { label: string; url: string }[];
}

export interface RunOptions {
  quick: boolean;
  log: (message: string) => void;
  sabotage?: boolean;
}

/** The steady state after heal, as one more check: a lab that did not come back is not a verdict on the hypothesis. */
export function steadyStateCheck(probes: RunJournal['steadyStateAfter']): CheckResult {
  const bad = probes.filter((p) => !p.ok);
  return {
    check: 'steady-state-after-heal',
    ok: bad.length === 0,
    detail: bad.length
      ? `after heal: ${bad.map((p) => `${p.probe} does not hold (${p.detail})`).join('; ')}`
      : `after heal every probe holds again: ${probes.map((p) => p.probe).join(', ')}`,
    population: { n: probes.length, of: 'steady-state probes' },
    damage: bad.map((p) => `${p.probe}: ${p.detail}`),
  };
}
