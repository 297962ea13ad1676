import { faultSchema, holdMs } from './fault';

describe('holdMs', () => {
  it('forwards at once without a fault and under reset (reset acts on connections, not chunks)', () => {
    expect(holdMs({ kind: 'none' }, 'upstream')).toBe(0);
    expect(holdMs({ kind: 'reset' }, 'downstream')).toBe(0);
  });

  it('holds blackholed chunks until the fault changes', () => {
    expect(holdMs({ kind: 'blackhole' }, 'upstream')).toBe(Number.POSITIVE_INFINITY);
  });

  it('delays only the configured direction, upstream by default', () => {
    expect(holdMs({ kind: 'latency', ms: 500 }, 'upstream')).toBe(500);
    expect(holdMs({ kind: 'latency', ms: 500 }, 'downstream')).toBe(0);
    expect(holdMs({ kind: 'latency', ms: 500, direction: 'downstream' }, 'downstream')).toBe(500);
    expect(holdMs({ kind: 'latency', ms: 500, direction: 'both' }, 'upstream')).toBe(500);
  });

  it('keeps jitter within ±jitterMs and never below zero', () => {
    expect(holdMs({ kind: 'latency', ms: 100, jitterMs: 50 }, 'upstream', () => 0)).toBe(50);
    expect(holdMs({ kind: 'latency', ms: 100, jitterMs: 50 }, 'upstream', () => 0.999999)).toBeCloseTo(150, 3);
    expect(holdMs({ kind: 'latency', ms: 10, jitterMs: 50 }, 'upstream', () => 0)).toBe(0);
  });

  it('models loss as retransmission delay with exponential RTO back-off', () => {
    const sequence = (values: number[]) => () => values.shift() ?? 1;
    expect(holdMs({ kind: 'loss', probability: 0.3 }, 'upstream', sequence([0.5]))).toBe(0);
    expect(holdMs({ kind: 'loss', probability: 0.3 }, 'upstream', sequence([0.1, 0.9]))).toBe(200);
    expect(holdMs({ kind: 'loss', probability: 0.3, retransmitMs: 100 }, 'upstream', sequence([0.1, 0.1, 0.9]))).toBe(
      300,
    );
    // Certain loss is bounded: six doublings of the RTO.
    expect(holdMs({ kind: 'loss', probability: 1, retransmitMs: 10 }, 'upstream', () => 0)).toBe(10 * 63);
  });
});

describe('faultSchema', () => {
  it('accepts every documented fault and refuses unknown fields or kinds', () => {
    expect(faultSchema.safeParse({ kind: 'latency', ms: 2000, jitterMs: 100, direction: 'both' }).success).toBe(true);
    expect(faultSchema.safeParse({ kind: 'loss', probability: 0.2 }).success).toBe(true);
    expect(faultSchema.safeParse({ kind: 'loss', probability: 2 }).success).toBe(false);
    expect(faultSchema.safeParse({ kind: 'latency' }).success).toBe(false);
    expect(faultSchema.safeParse({ kind: 'partition' }).success).toBe(false);
    expect(faultSchema.safeParse({ kind: 'none', extra: 1 }).success).toBe(false);
  });
});
