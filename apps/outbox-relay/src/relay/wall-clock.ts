// The wall clock to microseconds, for the relay's lag (commit → Kafka ack). Postgres stamps a commit in microseconds;
// Date.now() counts whole milliseconds, and a healthy relay's lag is about one millisecond, so measured with it every
// lag came out as 0, 1 or 2 ms. performance.now() has microseconds but counts from the process start, not the epoch.
//
// This ties the two together. A reading of Date.now() taken just before performance.now() bounds their offset from
// below, to within a millisecond (the true time is at least Date.now() and less than Date.now() + 1); the largest bound
// seen so far is the offset, short only by the sub-millisecond phase of its best reading. Readings come at unrelated
// moments, so that phase is soon a few microseconds. Both clocks run at the same rate (Linux slews CLOCK_MONOTONIC with
// CLOCK_REALTIME), so the offset moves only when the wall clock is stepped: forward raises the bound at once; back
// makes a bound fall more than a millisecond below the offset, which cannot happen otherwise, and the offset restarts.

export class WallClock {
  private offset = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly wall: () => number = Date.now,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** Milliseconds since the Unix epoch, with a fraction. */
  now(): number {
    const wall = this.wall();
    const monotonic = this.monotonic();
    const bound = wall - monotonic;
    if (bound > this.offset || bound < this.offset - 1) this.offset = bound;
    return monotonic + this.offset;
  }
}
