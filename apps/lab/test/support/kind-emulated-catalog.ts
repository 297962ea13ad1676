// The catalog through the kind runner (`lab chaos run <id> --target kind --quick`), on a kind cluster emulated
// over a real local lab (support/kind-emulator.ts): every kubectl call the runner makes is answered from real
// processes, Postgres, Kafka, Prometheus and traces, and every Chaos Mesh object really breaks something. What this
// proves: the kind runner reaches the expected verdict for every experiment (PASS, or FAIL as designed on exactly its
// named checks) with no check INCONCLUSIVE, each fault proven the way the kind runner proves it (Chaos Mesh status,
// replaced pods, restart counts, connect probes, the container's CPU), and each naive variant rolled out through the
// overlay and restored after. What it cannot prove: that a real cluster and Chaos Mesh act as the emulation does.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labCli, repoRoot } from '@faultline/testing';
import { courseOrder } from '../../src/chaos/course';
import { loadCatalog } from '../../src/chaos/catalog';
import type { RunJournal } from '../../src/chaos/journal';
import { kindOverlayDir, renderImageOverlay } from '../../src/kind/kind-plan';
import { kindStateDir } from '../../src/kind/kind-target';
import { resolveLayout } from '../../src/layout/lab-layout';
import { jwtPrivateKeyFile } from '../../src/topology/lab-services';
import { KindEmulator, writeKubectlShim } from './kind-emulator';

/** The lab's state folder and port offset; LAB_GATEWAY_PORT '' puts its gateway at 8080 + the offset too. */
export type KindEmulatedEnv = Record<'LAB_STATE_DIR' | 'LAB_PORT_OFFSET' | 'LAB_GATEWAY_PORT', string>;

/**
 * Every experiment of the catalog whose expected verdict is `expected`, through the kind runner on an emulated cluster
 * over a lab of its own: the catalog is split in two suites (correct variants, naive twins), each with its own lab
 * and emulator, so that `npm test` runs them side by side (tools/test/lanes.json).
 */
export function describeKindEmulatedCatalog(env: KindEmulatedEnv, expected: 'pass' | 'fail'): void {
  const layout = resolveLayout(env, repoRoot);
  const cli = labCli(env);
  const paths = { root: repoRoot, stateDir: kindStateDir(layout) };
  let emulator: KindEmulator;
  let kind: ReturnType<typeof labCli>;
  let shimDir: string;

  beforeAll(async () => {
    emulator = new KindEmulator(layout, repoRoot, kindOverlayDir(paths));
    await emulator.start();
    const up = await cli.exec('up', ...emulator.labOverrides());
    if (up.code !== 0) {
      await cli.exec('down');
      await emulator.stop();
      throw new Error(`lab up failed:\n${up.stderr}`);
    }
    // What `lab up --target kind` leaves behind: the overlay pinned to the images, and the key the load signs with.
    mkdirSync(kindOverlayDir(paths), { recursive: true });
    writeFileSync(join(kindOverlayDir(paths), 'kustomization.yaml'), renderImageOverlay(paths, 'emulated'));
    mkdirSync(join(paths.stateDir, 'secrets'), { recursive: true });
    copyFileSync(jwtPrivateKeyFile(layout), join(paths.stateDir, 'secrets', 'jwt-private.pem'));
    shimDir = mkdtempSync(join(tmpdir(), 'kind-emu-'));
    kind = labCli({ ...env, ...emulator.env(writeKubectlShim(shimDir)) });
  }, 300_000);

  afterAll(async () => {
    await emulator?.stop();
    await cli.exec('down');
    if (shimDir) rmSync(shimDir, { recursive: true, force: true });
  }, 120_000);

  const catalog = loadCatalog(repoRoot);
  const ids = courseOrder(catalog.map((e) => e.experiment.id)).filter(
    (id) => catalog.find((e) => e.experiment.id === id)?.experiment.expected === expected,
  );

  describe(`the catalog's ${expected === 'pass' ? 'correct variants' : 'naive twins'} through the kind runner, on an emulated cluster`, () => {
    it.each(ids)(
      '%s reaches its expected verdict on kind, every check judged',
      async (id) => {
        const experiment = catalog.find((e) => e.experiment.id === id)?.experiment;
        const result = await kind.exec('chaos', 'run', id, '--target', 'kind', '--quick', '--json');
        let journal: RunJournal;
        try {
          journal = JSON.parse(result.stdout) as RunJournal;
        } catch {
          throw new Error(
            `lab chaos run ${id} --target kind printed no journal (exit ${result.code}):\n${result.stderr.slice(-4000)}`,
          );
        }
        process.stdout.write(
          `${id} (kind, emulated): ${journal.verdict} in ${journal.durationS} s — ${journal.reason}\n${journal.fault.evidence.map((e) => `  · ${e}`).join('\n')}\n${journal.checks.map((c) => `  ${c.inconclusive ? '?' : c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join('\n')}\n`,
        );
        const failing = journal.checks
          .filter((c) => !c.ok)
          .map((c) => c.check)
          .sort();
        expect({
          target: journal.target,
          verdict: journal.verdict,
          asDesigned: journal.asDesigned,
          fired: journal.fault.fired,
          inconclusive: journal.checks.filter((c) => c.inconclusive).map((c) => c.check),
          failing,
        }).toEqual({
          target: 'kind',
          verdict: experiment?.expected === 'pass' ? 'PASS' : 'FAIL',
          asDesigned: experiment?.expected === 'fail',
          fired: true,
          inconclusive: [],
          failing: [...(experiment?.expected === 'fail' ? (experiment.mustFail ?? []) : [])].sort(),
        });
        const traces = journal.checks.find((c) => c.check === 'trace-continues');
        if (traces && experiment?.fault.local.driver === 'kill-process' && experiment.fault.local.times > 1) {
          // Spans a killed pod had not exported die with it: only the orders from the last kill on can prove the trace.
          expect(traces.detail).toMatch(/orders accepted from the last kill on are ONE trace/);
        }
        if (experiment?.fault.kind.component) {
          // The naive variant went out through the overlay and came back.
          expect(journal.fault.evidence.some((e) => e.startsWith('variant live: deployment/'))).toBe(true);
          expect(journal.fault.evidence.find((e) => e.startsWith('overlay after the run:'))).toMatch(
            /^overlay after the run: restored/,
          );
        }
        if (experiment?.variant?.['postgres']) {
          // The server settings were set for the run, by psql in the postgres pod, and reset after it.
          expect(journal.fault.evidence.find((e) => e.startsWith('server settings after the run:'))).toMatch(
            /^server settings after the run: reset/,
          );
        }
      },
      600_000,
    );
  });
}
