import { spawn } from 'node:child_process';
import { isOurs, processState } from './pid-file';
import { waitFor } from './wait-for';

describe('processState', () => {
  it('reads the kernel state of a process: T while it is frozen, not T once thawed, and throws once it is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid as number;
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      expect(processState(pid)).not.toBe('T');
      process.kill(pid, 'SIGSTOP');
      await waitFor(async () => processState(pid) === 'T', { description: 'the child to stop', timeoutMs: 5000, intervalMs: 10 });
      process.kill(pid, 'SIGCONT');
      await waitFor(async () => processState(pid) !== 'T', { description: 'the child to run again', timeoutMs: 5000, intervalMs: 10 });
      expect(isOurs(pid)).toBe(true);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    expect(() => processState(pid)).toThrow();
    expect(isOurs(pid)).toBe(false);
  });
});
