import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoRoot } from '../../layout/lab-layout';
import { loadCatalog } from '../catalog';
import { chaosObjects, KUBECTL_TIMEOUT_MS, kubectlPlan, MIGRATION_STEP_TIMEOUT_MS } from './kind-chaos-plan';
import { Kubectl } from './kubectl';

describe('Kubectl timeouts', () => {
  it('gives a migration step the migration timeout, every other call the short one', () => {
    const kubectl = Kubectl.fromEnv('/', {});
    expect(kubectl.timeoutFor(kubectlPlan.migrate('apply', 'next'))).toBe(MIGRATION_STEP_TIMEOUT_MS);
    expect(kubectl.timeoutFor(kubectlPlan.migrate('naive'))).toBe(MIGRATION_STEP_TIMEOUT_MS);
    expect(kubectl.timeoutFor(kubectlPlan.psql('orders', 'SELECT 1'))).toBe(KUBECTL_TIMEOUT_MS);
    expect(kubectl.timeoutFor(kubectlPlan.produce('orders.events'))).toBe(KUBECTL_TIMEOUT_MS);
  });

  it('lets one migration step outlast the whole experiment it runs in: its load and the stress on Postgres', () => {
    const root = findRepoRoot();
    const migrations = loadCatalog(root).filter((e) => e.experiment.fault.local.driver === 'migrate');
    expect(migrations.map((e) => e.experiment.id).sort()).toEqual(['online-migration', 'online-migration-naive']);
    for (const { dir, experiment } of migrations) {
      const stressS = Math.max(...chaosObjects(dir, experiment).map((o) => o.durationS ?? 0));
      expect({
        id: experiment.id,
        fits: MIGRATION_STEP_TIMEOUT_MS >= (experiment.load.durationS + stressS) * 1000,
      }).toEqual({ id: experiment.id, fits: true });
    }
  });

  it('kills a call at its own timeout, and only that call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-timeout-'));
    try {
      const binary = join(dir, 'kubectl');
      // A kubectl that takes 400 ms to answer.
      writeFileSync(binary, `#!${process.execPath}\nsetTimeout(() => { process.stdout.write('done'); }, 400);\n`);
      chmodSync(binary, 0o755);
      const kubectl = new Kubectl(binary, dir, {}, (args) => (args.includes('slow-step') ? 10_000 : 100));
      const quick = await kubectl.run(['get', 'pods']);
      const slow = await kubectl.run(['exec', 'slow-step']);
      expect({ quick: quick.code === 0, slow: slow.code, out: slow.stdout }).toEqual({
        quick: false,
        slow: 0,
        out: 'done',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
