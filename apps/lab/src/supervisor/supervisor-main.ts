// The supervisor process: started detached by `lab up`, it runs every service and restarts the ones that exit,
// until `lab down` sends it SIGTERM. It reads its plan from the state folder and reports to it.
import { appendFileSync, rmSync } from 'node:fs';
import { resolveLayout } from '../layout/lab-layout';
import { readJson, supervisorFiles, SupervisorHolds, SupervisorPlan } from './supervisor-files';
import { Supervisor } from './supervisor';
import { startTraceStore } from '../tracing/trace-store';

const layout = resolveLayout();
const files = supervisorFiles(layout);
const log = (message: string) => appendFileSync(files.log, `${new Date().toISOString()} ${message}\n`);

const plan = readJson<SupervisorPlan>(files.plan);
if (!plan) {
  log(`no plan at ${files.plan}; nothing to supervise`);
  process.exit(1);
}

const supervisor = new Supervisor(plan, files.state, log);
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping services`);
  void supervisor.stop().then(() => {
    rmSync(files.pid, { force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => undefined); // the terminal that ran `lab up` closing must not stop the lab
// A new supervisor holds nothing: a hold left by a chaos run that died belongs to the lab it ran against.
rmSync(files.holds, { force: true });
process.on('SIGUSR2', () => supervisor.applyHolds(readJson<SupervisorHolds>(files.holds) ?? {}));
log(`supervisor ${process.pid} starting ${plan.services.length} services`);
// The local trace backend lives as long as the supervisor; services start once it listens (it never fails the lab).
void startTraceStore(layout, log).then(() => supervisor.start());
