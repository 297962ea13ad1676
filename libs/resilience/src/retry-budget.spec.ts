import fc from 'fast-check';
import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  it('starts with `burst` retries, then allows one retry per 1/ratio calls', () => {
    const budget = new RetryBudget({ ratio: 0.1, burst: 2 });
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 9; i++) budget.recordCall();
    expect(budget.tryRetry()).toBe(false);
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  it('never saves up more than `burst`', () => {
    const budget = new RetryBudget({ ratio: 0.5, burst: 3 });
    for (let i = 0; i < 1000; i++) budget.recordCall();
    expect(budget.balance()).toBe(3);
  });

  it('over any sequence of calls and retry requests, retries granted ≤ burst + ratio × calls', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.boolean(), { maxLength: 500 }),
        (ratio, burst, steps) => {
          const budget = new RetryBudget({ ratio, burst });
          let calls = 0;
          let granted = 0;
          for (const isCall of steps) {
            if (isCall) {
              budget.recordCall();
              calls++;
            } else if (budget.tryRetry()) granted++;
          }
          expect(granted).toBeLessThanOrEqual(burst + ratio * calls + 1e-6);
        },
      ),
    );
  });

  it('refuses nonsense', () => {
    expect(() => new RetryBudget({ ratio: 1.5, burst: 1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, burst: -1 })).toThrow(RangeError);
  });
});
