import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
      await waitFor(async () => processState(pid) === 'T', {
        description: 'the child to stop',
        timeoutMs: 5000,
        intervalMs: 10,
      });
      process.kill(pid, 'SIGCONT');
      await waitFor(async () => processState(pid) !== 'T', {
        description: 'the child to run again',
        timeoutMs: 5000,
        intervalMs: 10,
      });
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

describe('isOurs', () => {
  it('keeps a process for ours while it execs into its real program (the command line reads empty for a moment)', async () => {
    // `sh -c 'exec sleep …'` execs a second time after spawn returns, as `setpriv … -- postgres` does for Postgres
    // started as root. Checked back to back from the start until the exec is over: never taken for dead.
    const marker = '/bin/sleep 7.25';
    let checks = 0;
    for (let child = 0; child < 20; child++) {
      const sh = spawn('/bin/sh', ['-c', `exec ${marker}`], { stdio: 'ignore' });
      const pid = sh.pid as number;
      try {
        for (;;) {
          checks += 1;
          expect(isOurs(pid, marker)).toBe(true);
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sleep')) break;
        }
      } finally {
        const exited = new Promise((resolve) => sh.once('exit', resolve));
        sh.kill('SIGKILL');
        await exited;
      }
      expect(isOurs(pid, marker)).toBe(false);
    }
    expect(checks).toBeGreaterThan(20);
  });
});
