// Extra service processes a chaos run starts beside the supervised lab (and stops after): a gateway whose edge to a
// dependency goes through a fault proxy, or a copy of a service with a naive variant switched on. One lab serves
// every experiment this way: nothing in the supervised lab is reconfigured.
import { ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import type { LocalTarget } from '../local/local-target';
import { appEntry } from '../topology/lab-services';

export interface ExtraProcess {
  name: string;
  child: ChildProcess;
  httpPort: number;
  grpcPort?: number;
  url: string;
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

export async function startExtra(layout: LabLayout, local: LocalTarget, service: string, name: string, env: Record<string, string>): Promise<ExtraProcess> {
  const spec = local.services().find((s) => s.name === service);
  if (!spec) throw new Error(`unknown service ${service}`);
  const httpPort = await freePort();
  const grpcPort = spec.grpcPort ? await freePort() : undefined;
  const log = openSync(join(layout.logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--enable-source-maps', appEntry(layout, spec.app)], {
    env: { ...process.env, ...spec.env, HTTP_PORT: String(httpPort), ...(grpcPort ? { GRPC_PORT: String(grpcPort) } : {}), FAULTLINE_COMPONENT: name, ...env },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see ${join(layout.logDir, `${name}.log`)}`);
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready within 60 s; see ${join(layout.logDir, `${name}.log`)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    name,
    child,
    httpPort,
    grpcPort,
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
