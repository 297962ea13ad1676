import { spawn } from 'node:child_process';
import { waitFor } from '../process/wait-for';
import { clockTicksPerSecond, parseStat, treeCpuMs } from './process-cpu';

describe('process CPU from /proc', () => {
  it('reads the parent and utime + stime + cutime + cstime, past a command name holding spaces and parentheses', () => {
    const line = '4242 (node (x) y) S 17 4242 17 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 11 0 1000 0 0';
    expect(parseStat(line)).toEqual({ ppid: 17, ticks: 250 + 50 + 7 + 3 });
    expect(() => parseStat('garbage')).toThrow('not a /proc/<pid>/stat line');
  });

  it('counts a busy child in its parent’s tree, a nested root as itself only, and a gone root as NaN', async () => {
    // A child that burns CPU for ~300 ms, under this process.
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end);'], {
      stdio: 'ignore',
    });
    await waitFor(async () => treeCpuMs({ child: child.pid as number }).child > 150, {
      description: 'the child to burn 150 ms of CPU',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const both = treeCpuMs({ self: process.pid, child: child.pid as number, gone: 2 ** 22 + 1 });
    const alone = treeCpuMs({ self: process.pid });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(both.child).toBeGreaterThan(100);
    expect(alone.self - both.self).toBeGreaterThan(100);
    expect(both.gone).toBeNaN();
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
  });
});
