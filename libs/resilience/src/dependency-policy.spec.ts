import { Registry } from 'prom-client';
import { CircuitOpenError, type ErrorClass } from './circuit-breaker';
import { DependencyPolicy, type DependencyPolicyOptions } from './dependency-policy';
import { ResilienceEvents } from './resilience-events';
import { ResilienceMetrics } from './resilience-metrics';

class Unavailable extends Error {}

/** A policy on a fake clock: sleeping advances time, so retry instants are exact and the test takes no time. */
function policyOnFakeClock(overrides: Partial<DependencyPolicyOptions> = {}) {
  let now = 1_000_000;
  const registry = new Registry();
  const policy = new DependencyPolicy({
    dependency: 'inventory',
    deadlineMs: 1_000,
    // A breaker that never opens in these tests unless asked: they are about retries.
    breaker: {
      errorThresholdPercent: 100,
      volumeThreshold: 1_000_000,
      rollingWindowMs: 10_000,
      resetTimeoutMs: 1_000,
      timeoutMs: 60_000,
    },
    retry: { maxRetries: 2, backoff: { baseMs: 25, capMs: 250 }, budget: { ratio: 0.1, burst: 10 } },
    classify: (): ErrorClass => 'failure',
    isRetryable: (error) => error instanceof Unavailable,
    metrics: new ResilienceMetrics(registry),
    events: new ResilienceEvents(),
    random: seeded(7),
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    ...overrides,
  });
  return { policy, clock: () => now, registry };
}

describe('DependencyPolicy', () => {
  it('retries an idempotent read at most twice, with jittered instants, and passes the same deadline to every attempt', async () => {
    const { policy, clock } = policyOnFakeClock();
    const attempts: { at: number; deadline: number }[] = [];
    await expect(
      policy.call(
        async (deadline) => {
          attempts.push({ at: clock(), deadline });
          throw new Unavailable('down');
        },
        { idempotent: true },
      ),
    ).rejects.toThrow('down');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.deadline)).size).toBe(1);
    const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
    expect(gaps[0]).toBeLessThan(25);
    expect(gaps[1]).toBeLessThan(50);
  });

  it('never retries a write', async () => {
    const { policy } = policyOnFakeClock();
    let attempts = 0;
    await expect(
      policy.call(
        async () => {
          attempts++;
          throw new Unavailable('down');
        },
        { idempotent: false },
      ),
    ).rejects.toThrow();
    expect(attempts).toBe(1);
  });

  it('does not retry errors that are not retryable', async () => {
    const { policy } = policyOnFakeClock();
    let attempts = 0;
    await expect(
      policy.call(
        async () => {
          attempts++;
          throw new Error('not found');
        },
        { idempotent: true },
      ),
    ).rejects.toThrow();
    expect(attempts).toBe(1);
  });

  it('in an outage, the retry budget bounds attempts to (1 + ratio) × calls + burst, and the retry instants differ', async () => {
    const { policy, clock, registry } = policyOnFakeClock();
    const calls = 200;
    const instants: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = clock();
      await policy
        .call(
          async () => {
            instants.push(clock() - started);
            throw new Unavailable('down');
          },
          { idempotent: true },
        )
        .catch(() => undefined);
    }
    const attempts = instants.length;
    expect(attempts).toBeLessThanOrEqual(calls * 1.1 + 10);
    expect(attempts).toBeGreaterThan(calls);
    // Without a budget it would have been 3 × 200 = 600.
    const retryOffsets = instants.filter((offset) => offset > 0);
    expect(new Set(retryOffsets).size).toBeGreaterThan(retryOffsets.length / 2);
    const retries = (await registry.getSingleMetric('dependency_retries_total')?.get())?.values ?? [];
    const exhausted = retries.find((v) => v.labels['outcome'] === 'budget_exhausted')?.value ?? 0;
    expect(exhausted).toBeGreaterThan(100);
  });

  it('does not retry when the backoff would overrun the deadline', async () => {
    const { policy } = policyOnFakeClock({ deadlineMs: 20, random: () => 0.99 });
    let attempts = 0;
    await expect(
      policy.call(
        async () => {
          attempts++;
          throw new Unavailable('down');
        },
        { idempotent: true },
      ),
    ).rejects.toThrow();
    expect(attempts).toBe(1);
  });

  it('stops retrying at once when the breaker is open', async () => {
    const { policy } = policyOnFakeClock({
      breaker: {
        errorThresholdPercent: 1,
        volumeThreshold: 1,
        rollingWindowMs: 10_000,
        resetTimeoutMs: 60_000,
        timeoutMs: 60_000,
      },
    });
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Unavailable('down');
    };
    await policy.call(failing, { idempotent: true }).catch(() => undefined);
    expect(attempts).toBe(1);
    await expect(policy.call(failing, { idempotent: true })).rejects.toBeInstanceOf(CircuitOpenError);
    expect(attempts).toBe(1);
    policy.shutdown();
  });

  it('refuses more than 2 retries', () => {
    expect(() =>
      policyOnFakeClock({
        retry: { maxRetries: 3, backoff: { baseMs: 1, capMs: 1 }, budget: { ratio: 0.1, burst: 1 } },
      }),
    ).toThrow(RangeError);
  });
});

/** mulberry32: a tiny seeded PRNG, so the jitter tests are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
