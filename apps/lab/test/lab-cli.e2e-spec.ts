// The lab CLI end to end, on its own state folder and ports (offset 2200: not 2000, which would put the gateway on
// 10080, a port that fetch() refuses by specification), so it never touches the user's lab or
// the integration suite's: `lab up` brings every dependency and service up, `lab status --json` tells the truth
// before and after a service is killed, `lab token` signs what the gateway's key verifies, and `lab down` leaves no
// process of ours behind.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createTokenVerifier } from '@faultline/auth';
import { resolveLayout } from '../src/layout/lab-layout';
import { waitFor } from '../src/process/wait-for';
import { readJson, supervisorFiles, SupervisorPlan } from '../src/supervisor/supervisor-files';
import { isAlive, LabComponent, labCli, processesOfLab, repoRoot } from '@faultline/testing';

const env = { LAB_STATE_DIR: '.lab/test-e2e', LAB_PORT_OFFSET: '2200', LAB_GATEWAY_PORT: '' };
const layout = resolveLayout(env, repoRoot);
const lab = labCli(env);

const SERVICES = [
  'orders',
  'inventory',
  'recommendations',
  'notifications',
  'outbox-relay-orders',
  'outbox-relay-inventory',
  'gateway',
];
const INFRA = ['postgres', 'redis', 'kafka', 'prometheus'];
const byName = (components: LabComponent[], name: string) => {
  const found = components.find((c) => c.name === name);
  if (!found) throw new Error(`lab status does not list ${name}`);
  return found;
};

let firstUp: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  firstUp = await lab.exec('up');
  if (firstUp.code !== 0) throw new Error(`lab up failed:\n${firstUp.stderr}`);
}, 300_000);

afterAll(async () => {
  // Whatever happened above, leave nothing running.
  await lab.exec('down');
}, 120_000);

describe('lab CLI on the local target', () => {
  it('reports every app and dependency as running and healthy, with pid and port, after `lab up`', async () => {
    const components = await lab.status();
    for (const name of [...INFRA, ...SERVICES]) {
      const c = byName(components, name);
      expect({ name, state: c.state, healthy: c.healthy }).toEqual({ name, state: 'running', healthy: true });
      expect(c.pid).toEqual(expect.any(Number));
      expect(isAlive(c.pid as number)).toBe(true);
      expect(c.port).toEqual(expect.any(Number));
    }
    expect(byName(components, 'gateway').port).toBe(8080 + 2200);
    expect(byName(components, 'postgres').port).toBe(15432 + 2200);
    // The status is true to the sockets: the gateway's port answers its liveness probe.
    const health = await fetch(`http://127.0.0.1:${byName(components, 'gateway').port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('binds every service to loopback only: nothing on the network reaches a service, gateway and internal gRPC included', async () => {
    // The kernel's own table of listening sockets (/proc/net/tcp{,6}), matched to each service process by inode.
    const sockets = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/)),
    );
    const listening = (pid: number) => {
      const inodes = new Set(
        readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
          try {
            return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''];
          } catch {
            return [];
          }
        }),
      );
      // State 0A is LISTEN; column 1 is the local address as hex ip:port, column 9 the inode.
      return sockets.filter((r) => r[3] === '0A' && inodes.has(r[9])).map((r) => r[1]);
    };
    const LOOPBACK = /^(0100007F|00000000000000000000000001000000|0000000000000000FFFF00000100007F):/;
    const components = await lab.status();
    for (const name of SERVICES) {
      const addresses = listening(byName(components, name).pid as number);
      expect({ name, listens: addresses.length > 0, notLoopback: addresses.filter((a) => !LOOPBACK.test(a)) }).toEqual({
        name,
        listens: true,
        notLoopback: [],
      });
    }
  });

  it('reuses everything when brought up a second time', async () => {
    const before = await lab.status();
    const again = await lab.exec('up');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/postgres\s+✓ already running/);
    expect(again.stderr).toMatch(/kafka\s+✓ already running/);
    expect(again.stderr).toMatch(/supervisor\s+✓ already running/);
    const after = await lab.status();
    for (const name of [...INFRA, ...SERVICES]) expect(byName(after, name).pid).toBe(byName(before, name).pid);
  }, 120_000);

  it('restarts a killed service, and status shows the new pid and the restart', async () => {
    const before = byName(await lab.status(), 'orders');
    process.kill(before.pid as number, 'SIGKILL');
    const restarted = await waitFor(
      async () => {
        const now = byName(await lab.status(), 'orders');
        return now.state === 'running' && now.healthy && now.pid !== before.pid ? now : undefined;
      },
      { description: 'orders to be restarted and healthy', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(isAlive(before.pid as number)).toBe(false);
    expect(restarted.restarts).toBe((before.restarts ?? 0) + 1);
  }, 90_000);

  it('prints a token that verifies with the public key the gateway is configured with', async () => {
    const result = await lab.exec('token', '--sub', 'alice', '--role', 'customer', '--tier', 'free');
    expect(result.code).toBe(0);
    const plan = readJson<SupervisorPlan>(supervisorFiles(layout).plan);
    const gateway = plan?.services.find((s) => s.name === 'gateway');
    const verifier = await createTokenVerifier({
      publicKeyPem: readFileSync(gateway?.env['JWT_PUBLIC_KEY_FILE'] as string, 'utf8'),
      issuer: gateway?.env['JWT_ISSUER'] as string,
      audience: gateway?.env['JWT_AUDIENCE'] as string,
    });
    await expect(verifier.verify(result.stdout.trim())).resolves.toEqual({
      sub: 'alice',
      role: 'customer',
      tier: 'free',
    });
  });

  it('refuses bad token options with a clear message', async () => {
    const result = await lab.exec('token', '--sub', 'alice', '--role', 'root');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--role <role>.*Allowed choices are customer, admin/);
  });

  it('refuses bad bench options before starting anything, naming them', async () => {
    const unknown = await lab.exec('bench', '--bogus=1');
    expect({ code: unknown.code, stderr: unknown.stderr.trim() }).toEqual({
      code: 1,
      stderr: 'lab: bench: unknown option --bogus',
    });
    const area = await lab.exec('bench', '--only=orders,nope');
    expect(area.code).toBe(1);
    expect(area.stderr).toContain('lab: bench: --only: unknown area(s) nope; known: orders, relay');
    const both = await lab.exec('bench', '--smoke', '--quick');
    expect({ code: both.code, stderr: both.stderr.trim() }).toEqual({
      code: 1,
      stderr: 'lab: bench: --smoke and --quick are two different profiles: choose one',
    });
  });

  it('stops everything on `lab down`: status says stopped and no process of this lab remains', async () => {
    const before = await lab.status();
    const pids = before.map((c) => c.pid).filter((p): p is number => typeof p === 'number');
    expect(pids.length).toBeGreaterThanOrEqual(INFRA.length + SERVICES.length);
    const down = await lab.exec('down');
    expect(down.code).toBe(0);
    const after = await lab.status();
    for (const c of after) {
      expect({ name: c.name, state: c.state, pid: c.pid }).toEqual({
        name: c.name,
        state: c.name === 'prometheus' && c.state === 'unavailable' ? 'unavailable' : 'stopped',
        pid: null,
      });
    }
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesOfLab(env.LAB_STATE_DIR, layout.stateDir)).toEqual([]);
  }, 120_000);
});
