import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { assertLabNode, cpuBusy, cpuTimes, describeDrift, measureCpuDrift, stolenSince } from './bench-machine';

describe('the machine under the suite', () => {
  it('sees a process spinning on a CPU as busy time', async () => {
    // One of this machine's CPUs kept busy by a child: the whole machine is at least 1 / cpus busy, give or take.
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const busy = await cpuBusy(1000);
      expect(busy).toBeGreaterThan(0.8 / cpus().length);
      expect(busy).toBeLessThanOrEqual(1);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("reads the hypervisor's steal as a share of the CPU time between two readings", () => {
    expect(stolenSince({ busy: 100, steal: 10, total: 1000 }, { busy: 600, steal: 160, total: 2000 })).toBeCloseTo(
      0.15,
    );
    expect(stolenSince({ busy: 0, steal: 0, total: 5 }, { busy: 0, steal: 0, total: 5 })).toBe(0);
    const now = cpuTimes();
    expect(now.total).toBeGreaterThan(0);
    expect(now.steal).toBeGreaterThanOrEqual(0);
    expect(stolenSince(now)).toBeGreaterThanOrEqual(0);
  });

  it('times a fixed loop in windows and says how much they differ', () => {
    const drift = measureCpuDrift(4, 50);
    expect(drift.windows).toHaveLength(4);
    expect(drift.windows.every((n) => n > 0)).toBe(true);
    expect(Number.isFinite(drift.spread)).toBe(true);
    expect(describeDrift(drift)).toMatch(
      /^a fixed CPU loop varied by \d+% \(interquartile range \/ median of 4 × 0.05 s windows; median \d+ × 10k iterations\)$/,
    );
  });

  it('runs only on the Node.js major the lab ships on, and says how to get it', () => {
    expect(() => assertLabNode('v24.9.0')).not.toThrow();
    expect(() => assertLabNode('v20.20.2')).toThrow(
      /Node\.js 24, and this is v20\.20\.2: put \.tools\/node\/bin first on PATH/,
    );
    expect(() => assertLabNode('v25.0.0')).toThrow(/Node\.js 24/);
  });
});
