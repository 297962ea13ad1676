// Extra service processes a chaos run starts beside the supervised lab (and stops after): a gateway whose edge to a
// dependency goes through a fault proxy, or a copy of a service with a naive variant switched on, beside the lab's
// (request path) or in its place on its ports (consumers, while the supervisor holds the lab's copy). One lab serves
// every experiment this way, and it is whole again once the run ends.
import { ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { appEntry } from '../topology/lab-services';
import type { FaultLedger } from './fault-ledger';

export interface ExtraProcess {
  name: string;
  /** The running process (replaced by `restart`). */
  child: ChildProcess;
  httpPort: number;
  grpcPort?: number;
  url: string;
  /** Resolves when the current process exits, with its signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts the process again (after a kill, as a Deployment would) and waits for its readiness. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Readiness within 60 s, or the process is killed and the error names its log. */
async function awaitReady(name: string, child: ChildProcess, url: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see ${log}`);
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within 60 s; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Starts `service`'s app as `name` with `env` on top of the lab's environment for it. `samePorts`: on the
 * service's own ports (its supervised copy must be held first), so everything in the lab reaches the variant.
 */
export async function startExtra(
  layout: LabLayout,
  local: LocalTarget,
  service: string,
  name: string,
  env: Record<string, string>,
  options: { samePorts?: boolean; ledger?: FaultLedger } = {},
): Promise<ExtraProcess> {
  const spec = local.services().find((s) => s.name === service);
  if (!spec) throw new Error(`unknown service ${service}`);
  const httpPort = options.samePorts ? spec.httpPort : await freePort();
  const grpcPort = spec.grpcPort ? (options.samePorts ? spec.grpcPort : await freePort()) : undefined;
  const logFile = join(layout.logDir, `${name}.log`);
  const url = `http://127.0.0.1:${httpPort}`;
  const spawnChild = () => {
    const log = openSync(logFile, 'a');
    const child = spawn(process.execPath, ['--enable-source-maps', appEntry(layout, spec.app)], {
      env: {
        ...process.env,
        ...spec.env,
        HTTP_PORT: String(httpPort),
        ...(grpcPort ? { GRPC_PORT: String(grpcPort) } : {}),
        FAULTLINE_COMPONENT: name,
        ...env,
      },
      stdio: ['ignore', log, log],
    });
    const pid = child.pid ?? 0;
    options.ledger?.add({ kind: 'extra', pid, name });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        options.ledger?.remove({ kind: 'extra', pid, name });
        resolve({ code, signal });
      }),
    );
    return { child, exited };
  };
  const extra: ExtraProcess = {
    name,
    ...spawnChild(),
    httpPort,
    grpcPort,
    url,
    async restart() {
      Object.assign(extra, spawnChild());
      await awaitReady(name, extra.child, url, logFile);
    },
    async stop() {
      const { child } = extra;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([extra.exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await extra.exited;
      }
    },
  };
  await awaitReady(name, extra.child, url, logFile);
  return extra;
}
