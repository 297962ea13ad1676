// The one decision rule of every chaos run, local or kind: from whether the fault was proven (and healed), the
// checks' results and what the experiment expects, the verdict and its exit code.
import type { CheckResult } from './checks';

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'ABORTED' | 'DEVIATION';

/**
 * 0 PASS; 1 FAIL (a correct experiment failed, or a naive one failed exactly as designed); 2 ABORTED (the steady
 * state did not hold, or the run broke); 3 INCONCLUSIVE (the fault was not proven, or a check had nothing to judge);
 * 4 DEVIATION (a naive experiment passed, or failed on other checks than the ones its bug must fail).
 */
export const EXIT_CODES: Record<Verdict, number> = { PASS: 0, FAIL: 1, ABORTED: 2, INCONCLUSIVE: 3, DEVIATION: 4 };

export interface VerdictInput {
  /** The fault was proven to have fired (and, where the target can tell, to have been healed). */
  fired: boolean;
  /** Why it was not proven, in the target's words. */
  notFiredReason?: string;
  checks: CheckResult[];
  expected: 'pass' | 'fail';
  /** A naive experiment's checks that its bug must fail. */
  mustFail?: string[];
}

export interface Decision {
  verdict: Verdict;
  reason: string;
  /** A naive experiment that failed exactly as designed. */
  asDesigned: boolean;
}

export function decideVerdict({ fired, notFiredReason, checks, expected, mustFail = [] }: VerdictInput): Decision {
  if (!fired)
    return {
      verdict: 'INCONCLUSIVE',
      asDesigned: false,
      reason:
        notFiredReason ??
        'the fault was not proven to have fired: nothing this run measured can confirm the hypothesis',
    };
  const inconclusive = checks.filter((c) => c.inconclusive).map((c) => c.check);
  if (inconclusive.length)
    return { verdict: 'INCONCLUSIVE', asDesigned: false, reason: `nothing to judge for: ${inconclusive.join(', ')}` };
  const failed = checks.filter((c) => !c.ok).map((c) => c.check);
  if (expected === 'pass') {
    return failed.length === 0
      ? { verdict: 'PASS', asDesigned: false, reason: 'every verdict check held' }
      : { verdict: 'FAIL', asDesigned: false, reason: `failed: ${failed.join(', ')}` };
  }
  const missing = mustFail.filter((name) => !failed.includes(name));
  const elsewhere = failed.filter((name) => !mustFail.includes(name));
  if (missing.length === 0 && elsewhere.length === 0)
    return {
      verdict: 'FAIL',
      asDesigned: true,
      reason: `FAIL (as designed): ${failed.join(', ')} failed, as this naive variant's bug must make them`,
    };
  return {
    verdict: 'DEVIATION',
    asDesigned: false,
    reason:
      `the naive variant did not fail as designed: ` +
      [
        missing.length
          ? `${missing.join(', ')} held although the bug must fail ${missing.length > 1 ? 'them' : 'it'}`
          : '',
        elsewhere.length ? `${elsewhere.join(', ')} failed, which the bug does not explain` : '',
      ]
        .filter(Boolean)
        .join('; '),
  };
}
