import { WallClock } from './wall-clock';

/** A machine whose true time is `start + monotonic + step` ms; Date.now() truncates it to whole milliseconds. */
function machine(start: number) {
  const state = { monotonic: 0, step: 0 };
  const clock = new WallClock(
    () => Math.floor(start + state.monotonic + state.step),
    () => state.monotonic,
  );
  return { state, clock, truth: () => start + state.monotonic + state.step };
}

describe('WallClock', () => {
  it('reads microseconds, where Date.now() reads whole milliseconds', () => {
    const { state, clock, truth } = machine(1_700_000_000_000.2);
    // Readings at unrelated moments: 0.37 ms apart, so their sub-millisecond phases spread over the millisecond.
    const errors: number[] = [];
    for (let i = 0; i < 50; i++) {
      state.monotonic += 0.37;
      errors.push(truth() - clock.now());
    }
    expect(Math.min(...errors)).toBeGreaterThanOrEqual(0);
    expect(errors[0]).toBeGreaterThan(0.5); // the first reading alone is only good to the millisecond
    expect(Math.max(...errors.slice(13))).toBeLessThan(0.02); // a dozen readings later, to 20 µs
    // A lag of 0.6 ms, which Date.now() reads as 0 or 1 ms.
    const committed = truth();
    state.monotonic += 0.6;
    expect(clock.now() - committed).toBeCloseTo(0.6, 1);
  });

  it('follows the wall clock stepped forward or back', () => {
    const { state, clock, truth } = machine(1_700_000_000_000.25);
    for (let i = 0; i < 20; i++) {
      state.monotonic += 0.37;
      clock.now();
    }
    for (const step of [5_000, -60_000]) {
      state.step += step;
      state.monotonic += 0.37;
      clock.now();
      state.monotonic += 0.37;
      expect(Math.abs(truth() - clock.now())).toBeLessThan(1);
    }
  });
});
