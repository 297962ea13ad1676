export interface RetryBudgetOptions {
  /** Retry credit each call earns: 0.1 allows retries for at most 10% of calls (plus `burst`). */
  ratio: number;
  /** The most credit that can be saved up, in retries; also what an idle caller starts with. */
  burst: number;
}

/**
 * A token bucket that bounds retries relative to calls (Finagle's RetryBudget, gRPC's retry throttling): every call
 * deposits `ratio` tokens, every retry withdraws one, and the balance never exceeds `burst`. Over ANY interval,
 * retries ≤ burst + ratio × calls, so during an outage where every call fails the dependency sees at most
 * (1 + ratio) × calls + burst attempts instead of (1 + maxRetries) × calls: retries cannot multiply load.
 */
export class RetryBudget {
  private tokens: number;

  constructor(private readonly options: RetryBudgetOptions) {
    if (!(options.ratio >= 0 && options.ratio <= 1)) throw new RangeError('retry budget ratio must be within 0..1');
    if (!(options.burst >= 0)) throw new RangeError('retry budget burst must be ≥ 0');
    this.tokens = options.burst;
  }

  /** A first attempt was made. */
  recordCall(): void {
    this.tokens = Math.min(this.options.burst, this.tokens + this.options.ratio);
  }

  /** true (and one token spent) if a retry may be made now. */
  tryRetry(): boolean {
    // A small epsilon: ten deposits of 0.1 must make one whole token despite floating point.
    if (this.tokens + 1e-9 < 1) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  balance(): number {
    return this.tokens;
  }
}
