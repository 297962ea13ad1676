/**
 * A bound on concurrent work. `tryAcquire` never waits: beyond the limit it answers undefined at once, so the caller
 * sheds the request (503 + Retry-After) instead of queueing it behind work that is already late. The release
 * function is idempotent, so releasing on both 'finish' and 'close' of a response is safe.
 */
export class InFlightLimiter {
  private current = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('an in-flight limit is a whole number ≥ 1');
  }

  get inFlight(): number {
    return this.current;
  }

  tryAcquire(): (() => void) | undefined {
    if (this.current >= this.limit) return undefined;
    this.current++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.current--;
    };
  }
}

/** One InFlightLimiter per route class (e.g. reads, writes, recommendations), so one class cannot starve another. */
export class LoadShedder<C extends string> {
  private readonly limiters: Map<C, InFlightLimiter>;

  constructor(limits: Record<C, number>) {
    this.limiters = new Map(
      (Object.entries(limits) as [C, number][]).map(([cls, limit]) => [cls, new InFlightLimiter(limit)]),
    );
  }

  tryAcquire(cls: C): (() => void) | undefined {
    const limiter = this.limiters.get(cls);
    if (!limiter) throw new Error(`no in-flight limit for route class ${cls}`);
    return limiter.tryAcquire();
  }

  inFlight(cls: C): number {
    return this.limiters.get(cls)?.inFlight ?? 0;
  }

  classes(): C[] {
    return [...this.limiters.keys()];
  }
}
