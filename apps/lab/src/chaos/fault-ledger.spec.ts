// The ledger with real processes: what a dead run left frozen is thawed and its extra processes are stopped by the
// next run; a run whose runner is still alive is never "healed" under its feet.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { processState } from '../process/pid-file';
import { waitFor } from '../process/wait-for';
import { FaultLedger, healLeftovers, ledgerFile } from './fault-ledger';

let dir: string;
let layout: LabLayout;
const noLab = {} as LocalTarget;
const sleeper = () => spawn('/bin/sleep', ['60'], { stdio: 'ignore' });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  layout = { runDir: dir } as LabLayout;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('thaws what a dead run froze and stops its extra processes, then forgets the ledger', async () => {
  const frozen = sleeper();
  const extra = sleeper();
  const exited = new Promise((resolve) => extra.once('exit', resolve));
  process.kill(frozen.pid as number, 'SIGSTOP');
  await waitFor(async () => processState(frozen.pid as number) === 'T', {
    description: 'stopped',
    timeoutMs: 5000,
    intervalMs: 20,
  });
  // A runner that no longer exists wrote it.
  writeFileSync(
    ledgerFile(layout),
    JSON.stringify({
      runId: 'r1',
      experiment: 'last-item',
      runnerPid: 2 ** 22 + 1,
      items: [
        { kind: 'frozen', pid: frozen.pid, service: 'inventory' },
        { kind: 'extra', pid: extra.pid, name: 'gateway-chaos' },
      ],
    }),
  );
  const done = await healLeftovers(layout, noLab);
  expect(done).toEqual([
    `thawed inventory (pid ${frozen.pid}) (left by run r1 of last-item)`,
    `stopped gateway-chaos (pid ${extra.pid}) (left by run r1 of last-item)`,
  ]);
  expect(processState(frozen.pid as number)).not.toBe('T');
  await exited;
  expect(existsSync(ledgerFile(layout))).toBe(false);
  frozen.kill('SIGKILL');
});

it('refuses to heal the faults of a run that is still going', async () => {
  const other = sleeper();
  writeFileSync(
    ledgerFile(layout),
    JSON.stringify({ runId: 'r2', experiment: 'relay-crash', runnerPid: other.pid, items: [] }),
  );
  await expect(healLeftovers(layout, noLab)).rejects.toThrow(/run r2 of relay-crash is still going/);
  other.kill('SIGKILL');
});

it('keeps the ledger up to date as faults come and go, and removes it when the run closes it', () => {
  const ledger = new FaultLedger(layout, 'r3', 'kafka-outage');
  ledger.add({ kind: 'infra-stopped', component: 'kafka' });
  ledger.add({ kind: 'infra-stopped', component: 'kafka' });
  expect(JSON.parse(readFileSync(ledgerFile(layout), 'utf8')).items).toEqual([
    { kind: 'infra-stopped', component: 'kafka' },
  ]);
  ledger.remove({ kind: 'infra-stopped', component: 'kafka' });
  expect(JSON.parse(readFileSync(ledgerFile(layout), 'utf8')).items).toEqual([]);
  ledger.close();
  expect(existsSync(ledgerFile(layout))).toBe(false);
});
