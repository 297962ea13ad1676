import { InFlightLimiter, LoadShedder } from './in-flight-limiter';

describe('InFlightLimiter', () => {
  it('admits up to the limit, refuses beyond it at once, and admits again after a release', () => {
    const limiter = new InFlightLimiter(2);
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    expect(a && b).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
    a?.();
    expect(limiter.inFlight).toBe(1);
    expect(limiter.tryAcquire()).toBeDefined();
  });

  it('releases once even when released twice (finish and close both fire)', () => {
    const limiter = new InFlightLimiter(1);
    const release = limiter.tryAcquire();
    release?.();
    release?.();
    expect(limiter.inFlight).toBe(0);
    expect(limiter.tryAcquire()).toBeDefined();
    expect(limiter.tryAcquire()).toBeUndefined();
  });

  it('refuses a limit that is not a whole number ≥ 1', () => {
    expect(() => new InFlightLimiter(0)).toThrow(RangeError);
    expect(() => new InFlightLimiter(1.5)).toThrow(RangeError);
  });
});

describe('LoadShedder', () => {
  it('keeps classes apart: a full class does not shed another', () => {
    const shedder = new LoadShedder({ reads: 1, writes: 1 });
    expect(shedder.tryAcquire('reads')).toBeDefined();
    expect(shedder.tryAcquire('reads')).toBeUndefined();
    expect(shedder.tryAcquire('writes')).toBeDefined();
    expect(shedder.inFlight('reads')).toBe(1);
  });
});
