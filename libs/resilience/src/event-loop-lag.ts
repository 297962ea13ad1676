/**
 * How late this process's event loop is running: a timer due every `resolutionMs` measures how late it fires, and the
 * worst of each window of `windowMs` is kept. A server whose loop is late answers every request late, the cheap ones
 * too, so this is what admission should look at when the CPU, not a dependency, is what runs out. `sustainedMs` is the
 * lesser of the last two windows' worst: one pause (a garbage collection, a moment without CPU) does not count, an
 * overload does. The 50 ms resolution is fine against thresholds of hundreds of ms, and lets an idle process sleep
 * (every tick is a wakeup).
 */
export class EventLoopLag {
  private readonly timer: NodeJS.Timeout;
  private windows: [number, number] = [0, 0];
  private current = 0;

  constructor(options: { resolutionMs?: number; windowMs?: number } = {}) {
    const resolution = options.resolutionMs ?? 50;
    const windowMs = options.windowMs ?? 250;
    let last = performance.now();
    let windowStart = last;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.current = Math.max(this.current, now - last - resolution);
      last = now;
      if (now - windowStart >= windowMs) {
        this.windows = [this.windows[1], this.current];
        this.current = 0;
        windowStart = now;
      }
    }, resolution);
    this.timer.unref();
  }

  /** The lesser of the last two complete windows' worst delay (ms). */
  get sustainedMs(): number {
    return Math.min(...this.windows);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
