import { closedLoop, interleaved, openLoop } from './bench-load';

describe('bench load drivers', () => {
  it('runs a closed loop up to a limit with its workers, timing each operation', async () => {
    let inFlight = 0;
    let most = 0;
    const result = await closedLoop({ limit: 20, workers: 4 }, async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    });
    expect(result.done).toBe(20);
    expect(most).toBe(4);
    expect(result.latencies).toHaveLength(20);
    expect(result.perSecond).toBeCloseTo((20 * 1000) / result.elapsedMs);
  });

  it('starts open-model operations on schedule, whatever they cost', async () => {
    const started: number[] = [];
    const result = await openLoop({ rate: 100, durationMs: 100 }, async (i) => {
      started.push(i);
    });
    expect(result.done).toBe(10);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('alternates two measurements slice by slice and merges each side', async () => {
    const calls: string[] = [];
    const side = (name: string, ops: number) => () =>
      closedLoop({ limit: ops, workers: 1 }, async () => {
        calls.push(name);
      });
    const [a, b] = await interleaved(3, side('a', 2), side('b', 5));
    expect(calls.join('')).toBe('aabbbbbaabbbbbaabbbbb');
    expect(a.done).toBe(6);
    expect(b.done).toBe(15);
    expect(a.latencies).toHaveLength(6);
    expect(b.perSecond).toBeCloseTo((15 * 1000) / b.elapsedMs);
  });
});
