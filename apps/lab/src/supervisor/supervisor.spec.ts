// The supervisor with real child processes (a node one-liner that runs until signalled): restart on exit like a pod,
// and holds, by which a chaos run keeps a service stopped while its variant takes its place.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../process/wait-for';
import { readJson, SupervisorState } from './supervisor-files';
import { Supervisor } from './supervisor';

let dir: string;
let supervisor: Supervisor;
const stateFile = () => join(dir, 'state.json');
const entry = () => readJson<SupervisorState>(stateFile())?.services['svc'];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
  const script = join(dir, 'svc.js');
  writeFileSync(script, 'setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0));');
  supervisor = new Supervisor(
    {
      node: process.execPath,
      overrides: {},
      root: dir,
      logDir: dir,
      services: [{ name: 'svc', app: 'svc', entry: script, env: {}, httpPort: 1, url: '' } as never],
    },
    stateFile(),
    () => undefined,
  );
  supervisor.start();
});

afterEach(async () => {
  await supervisor.stop();
  rmSync(dir, { recursive: true, force: true });
});

const running = () =>
  waitFor(async () => entry()?.state === 'running' && entry()?.pid, {
    description: 'svc running',
    timeoutMs: 10_000,
    intervalMs: 50,
  });

it('restarts a service that is killed, with one more restart counted', async () => {
  const pid = await running();
  process.kill(pid as number, 'SIGKILL');
  const next = await waitFor(async () => entry()?.state === 'running' && entry()?.pid !== pid && entry()?.pid, {
    description: 'a new pid',
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  expect(next).not.toBe(pid);
  expect(entry()?.restarts).toBe(1);
});

it('keeps a held service stopped, even when it is asked to restart, and starts it again once released', async () => {
  const pid = (await running()) as number;
  supervisor.applyHolds({ svc: 'a chaos run' });
  await waitFor(async () => entry()?.state === 'held' && entry()?.pid === null, {
    description: 'svc held',
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  expect(() => process.kill(pid, 0)).toThrow();
  // Held is not a crash: no restart counted, none scheduled.
  expect(entry()?.restarts).toBe(0);
  supervisor.applyHolds({});
  const again = await running();
  expect(again).not.toBe(pid);
  expect(entry()?.restarts).toBe(0);
});
