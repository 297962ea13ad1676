import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import {
  BreakerTimeoutError,
  CircuitOpenError,
  DependencyBreaker,
  opossumOptions,
  validateBreakerPolicy,
  type ErrorClass,
} from './circuit-breaker';
import { ResilienceEvents, type ResilienceEvent } from './resilience-events';
import { ResilienceMetrics } from './resilience-metrics';

const policy = {
  errorThresholdPercent: 50,
  volumeThreshold: 4,
  rollingWindowMs: 10_000,
  resetTimeoutMs: 100,
  timeoutMs: 50,
};
const classify = (error: unknown): ErrorClass =>
  (error as Error).message === 'not found' ? 'caller_error' : 'failure';

async function metric(registry: Registry, name: string): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [Object.values(v.labels).join('/'), v.value]));
}

describe('breaker policy', () => {
  it('maps to opossum options and never counts caller errors', () => {
    const options = opossumOptions('recommendations', policy, classify);
    expect(options).toMatchObject({
      timeout: 50,
      errorThresholdPercentage: 50,
      volumeThreshold: 4,
      rollingCountTimeout: 10_000,
      resetTimeout: 100,
    });
    expect(options.errorFilter?.(new Error('not found'))).toBe(true);
    expect(options.errorFilter?.(new Error('unavailable'))).toBe(false);
  });

  it('refuses nonsense numbers, naming the field', () => {
    expect(() => validateBreakerPolicy({ ...policy, errorThresholdPercent: 0 })).toThrow(/errorThresholdPercent/);
    expect(() => validateBreakerPolicy({ ...policy, volumeThreshold: 0 })).toThrow(/volumeThreshold/);
    expect(() => validateBreakerPolicy({ ...policy, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('DependencyBreaker', () => {
  it('opens after the error threshold, short-circuits, half-opens after resetTimeout and closes on a success; all as metrics and events', async () => {
    const registry = new Registry();
    const events = new ResilienceEvents();
    const seen: ResilienceEvent[] = [];
    events.subscribe((e) => seen.push(e));
    const breaker = new DependencyBreaker('recs', policy, classify, new ResilienceMetrics(registry), events);
    const fail = () => Promise.reject(new Error('unavailable'));

    // Caller errors never open it.
    for (let i = 0; i < 5; i++)
      await expect(breaker.fire(() => Promise.reject(new Error('not found')))).rejects.toThrow('not found');
    expect(breaker.state()).toBe('closed');

    for (let i = 0; i < 6; i++) await breaker.fire(fail).catch(() => undefined);
    expect(breaker.state()).toBe('open');
    await expect(breaker.fire(() => Promise.resolve(1))).rejects.toBeInstanceOf(CircuitOpenError);
    expect(await metric(registry, 'circuit_breaker_state')).toEqual({ recs: 2 });

    await sleep(policy.resetTimeoutMs + 30);
    expect(breaker.state()).toBe('half_open');
    expect(await breaker.fire(() => Promise.resolve('ok'))).toBe('ok');
    expect(breaker.state()).toBe('closed');

    expect(await metric(registry, 'circuit_breaker_transitions_total')).toEqual({
      'recs/open': 1,
      'recs/half_open': 1,
      'recs/closed': 1,
    });
    const calls = await metric(registry, 'circuit_breaker_calls_total');
    expect(calls['recs/caller_error']).toBe(5);
    expect(calls['recs/rejected']).toBeGreaterThanOrEqual(1);
    expect(calls['recs/success']).toBe(1);
    expect(seen.map((e) => e.type)).toEqual(expect.arrayContaining(['breaker_state', 'short_circuit']));
    breaker.shutdown();
  });

  it('times a slow call out after timeoutMs', async () => {
    const registry = new Registry();
    const breaker = new DependencyBreaker(
      'slow',
      policy,
      classify,
      new ResilienceMetrics(registry),
      new ResilienceEvents(),
    );
    const started = Date.now();
    await expect(breaker.fire(() => sleep(1_000))).rejects.toBeInstanceOf(BreakerTimeoutError);
    expect(Date.now() - started).toBeLessThan(500);
    expect((await metric(registry, 'circuit_breaker_calls_total'))['slow/timeout']).toBe(1);
    breaker.shutdown();
  });
});
