/**
 * Admission at a rate: a token bucket in this process, `ratePerS` tokens a second up to `burst`. `tryAdmit` never
 * waits; without a token the caller sheds the request. It bounds what enters per second, where an in-flight bound
 * only bounds what is inside at once: work that leaves fast (an order accepted) but costs later (its saga) needs both.
 */
export class RateAdmission {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError('an admission rate is > 0 per second with a burst ≥ 1');
    this.tokens = burst;
    this.last = now();
  }

  tryAdmit(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerS);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
