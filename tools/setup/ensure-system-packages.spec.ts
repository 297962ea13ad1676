// tools/setup/ensure-system-packages.sh on machine states CI never shows (its machine has every package): run by
// bash with a PATH of stubs only, so "installed" means a stub exists and apt-get/id are scripted. Postgres is the
// machine's own (/usr/lib/postgresql/<n>/bin), as the lab finds it; LAB_PG_BIN_DIR points elsewhere to hide it.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, 'ensure-system-packages.sh');

describe('ensure-system-packages.sh', () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'setup-stubs-'));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const stub = (name: string, body = 'exit 0') => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  /** Every tool present but those named; `uid` is what `id -u` says; apt-get records its arguments. */
  const machine = (absent: string[], uid: number) => {
    for (const tool of ['prometheus', 'promtool', 'java', 'mvn', 'redis-server', 'initdb', 'postgres'].filter(
      (t) => !absent.includes(t),
    ))
      stub(tool);
    stub('id', `echo ${uid}`);
    stub('apt-get', `echo "$*" >> ${join(bin, 'apt-calls')}`);
  };
  const run = (env: Record<string, string> = {}, args: string[] = []) =>
    spawnSync('/bin/bash', [SCRIPT, ...args], { env: { PATH: bin, ...env }, encoding: 'utf8' });
  const aptCalls = () =>
    existsSync(join(bin, 'apt-calls')) ? readFileSync(join(bin, 'apt-calls'), 'utf8').trim().split('\n') : [];

  it('does nothing when everything is there', () => {
    machine([], 0);
    const r = run();
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(aptCalls()).toEqual([]);
  });

  it('as root, installs exactly what is missing (Prometheus here) from Debian’s packages', () => {
    machine(['prometheus', 'promtool'], 0);
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('setup: installing prometheus');
    expect(aptCalls()).toEqual(['update -qq', 'install -y -qq prometheus']);
  });

  it('wants Chromium only for the tests (--tests), where the API docs are loaded in it', () => {
    machine([], 0);
    expect(run().status).toBe(0);
    expect(aptCalls()).toEqual([]);
    expect(run({}, ['--tests']).stdout).toContain('setup: installing chromium');
    expect(aptCalls()).toEqual(['update -qq', 'install -y -qq chromium']);
    stub('chromium');
    rmSync(join(bin, 'apt-calls'));
    expect(run({}, ['--tests']).status).toBe(0);
    expect(aptCalls()).toEqual([]);
  });

  it('as a user, stops at once naming the one command, and installs nothing', () => {
    machine(['prometheus', 'promtool', 'mvn'], 1000);
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('sudo apt-get update && sudo apt-get install -y prometheus maven');
    expect(aptCalls()).toEqual([]);
  });

  it('finds Postgres where the lab does: the Debian folder, or LAB_PG_BIN_DIR', () => {
    machine(['initdb', 'postgres'], 1000);
    // The machine's /usr/lib/postgresql/<n>/bin counts, as for the lab.
    const here = run();
    const debian =
      existsSync('/usr/lib/postgresql') &&
      spawnSync('/bin/bash', ['-c', 'compgen -G "/usr/lib/postgresql/*/bin/initdb"']).status === 0;
    expect(here.status).toBe(debian ? 0 : 1);
    // LAB_PG_BIN_DIR that holds it counts too.
    stub('initdb');
    expect(run({ LAB_PG_BIN_DIR: bin }).status).toBe(0);
  });
});
