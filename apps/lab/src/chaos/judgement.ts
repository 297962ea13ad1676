// What a verdict check returns (CheckResult) and what its evaluator found (Judgement); checks.ts settles one into the
// other.
export interface CheckResult {
  check: string;
  ok: boolean;
  /** Nothing to judge (empty population, missing source, no window): the run is inconclusive, never green. */
  inconclusive?: boolean;
  detail: string;
  damage?: string[];
  /** How many things were judged, and what they were. */
  population?: { n: number; of: string };
}

/** What an evaluator found: a judgement over a population, or why it has no evidence to judge. */
export type Judgement =
  { population: number; of: string; ok: boolean; detail: string; damage?: string[] } | { unavailable: string };
