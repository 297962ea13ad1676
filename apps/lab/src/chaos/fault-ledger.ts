// What a chaos run has done to the lab that must be undone, written down as it happens (<state>/run/chaos-faults.json):
// a frozen process, a stopped piece of infrastructure, a held service, an extra process. The run undoes it all at its
// end, on Ctrl-C and on an abort; if the runner itself died, the next run finds the ledger and undoes it first.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { labSql } from '../infra/lab-sql';
import { silentProgress } from '../process/progress';
import { resetServerSettings } from './server-settings';
import { readJson, writeJsonAtomically } from '../supervisor/supervisor-files';

export type LedgerItem =
  | { kind: 'frozen'; pid: number; service: string }
  | { kind: 'infra-stopped'; component: string }
  | { kind: 'held'; service: string }
  | { kind: 'extra'; pid: number; name: string }
  | { kind: 'server-settings'; names: string[] };

interface Ledger {
  runId: string;
  experiment: string;
  runnerPid: number;
  items: LedgerItem[];
}

const same = (a: LedgerItem, b: LedgerItem) => JSON.stringify(a) === JSON.stringify(b);

export class FaultLedger {
  private readonly file: string;
  private ledger: Ledger;

  constructor(layout: LabLayout, runId: string, experiment: string) {
    this.file = ledgerFile(layout);
    this.ledger = { runId, experiment, runnerPid: process.pid, items: [] };
  }

  add(item: LedgerItem): void {
    if (this.ledger.items.some((i) => same(i, item))) return;
    this.ledger.items.push(item);
    writeJsonAtomically(this.file, this.ledger);
  }

  remove(item: LedgerItem): void {
    this.ledger.items = this.ledger.items.filter((i) => !same(i, item));
    writeJsonAtomically(this.file, this.ledger);
  }

  /** The run ended and undid everything itself. */
  close(): void {
    rmSync(this.file, { force: true });
  }
}

export const ledgerFile = (layout: LabLayout) => join(layout.runDir, 'chaos-faults.json');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Undoes what a previous run left in place (its runner died, or was killed): thaws, restarts infrastructure, kills
 * its extra processes, releases its holds. Returns what it did, for the new run's log. Refuses while that run's
 * runner is still alive: two runs at once on one lab would judge each other's faults.
 */
export async function healLeftovers(layout: LabLayout, local: LocalTarget): Promise<string[]> {
  const file = ledgerFile(layout);
  if (!existsSync(file)) return [];
  const ledger = readJson<Ledger>(file);
  if (!ledger) {
    rmSync(file, { force: true });
    return [];
  }
  if (ledger.runnerPid !== process.pid && alive(ledger.runnerPid)) {
    throw new Error(
      `run ${ledger.runId} of ${ledger.experiment} is still going (pid ${ledger.runnerPid}); wait for it, or stop it with Ctrl-C`,
    );
  }
  const done: string[] = [];
  for (const item of ledger.items) {
    try {
      switch (item.kind) {
        case 'frozen':
          if (alive(item.pid)) process.kill(item.pid, 'SIGCONT');
          done.push(`thawed ${item.service} (pid ${item.pid})`);
          break;
        case 'extra':
          if (alive(item.pid)) process.kill(item.pid, 'SIGKILL');
          done.push(`stopped ${item.name} (pid ${item.pid})`);
          break;
        case 'infra-stopped':
          await local
            .infra()
            .find((c) => c.name === item.component)
            ?.start(silentProgress);
          done.push(`started ${item.component} again`);
          break;
        case 'server-settings': {
          const sql = labSql(layout);
          try {
            await resetServerSettings((database, text, params) => sql.query(database, text, params), item.names);
          } finally {
            await sql.close();
          }
          done.push(`reset the server settings ${item.names.join(', ')}`);
          break;
        }
        case 'held':
          break;
      }
    } catch (error) {
      done.push(`could not undo ${item.kind} ${JSON.stringify(item)}: ${(error as Error).message}`);
    }
  }
  // Holds last: the extras in their place must be gone before the supervised copies take their ports back.
  for (const item of ledger.items) {
    if (item.kind !== 'held') continue;
    await local
      .hold(item.service, undefined)
      .catch((error: Error) => done.push(`could not release ${item.service}: ${error.message}`));
    done.push(`released ${item.service}`);
  }
  rmSync(file, { force: true });
  return done.map((d) => `${d} (left by run ${ledger.runId} of ${ledger.experiment})`);
}
