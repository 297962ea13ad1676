// One local lab for a chaos suite, brought up by the real CLI before the suite's tests and down after them (unless
// CHAOS_TEST_KEEP_LAB=1), and the helpers that run an experiment on it in the --quick profile and judge its journal.
// The local catalog is split over two suites, correct variants and naive twins, each on a lab of its own, so that
// `npm test` runs them side by side (tools/test/lanes.json).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labCli, repoRoot } from '@faultline/testing';
import type { RunJournal } from '../../src/chaos/journal';
import { resolveLayout } from '../../src/layout/lab-layout';

/** The lab's state folder and port offset; LAB_GATEWAY_PORT '' puts its gateway at 8080 + the offset too. */
export type ChaosLabEnv = Record<'LAB_STATE_DIR' | 'LAB_PORT_OFFSET' | 'LAB_GATEWAY_PORT', string>;

export function useChaosLocalLab(env: ChaosLabEnv) {
  const cli = labCli(env);
  const layout = resolveLayout(env, repoRoot);

  beforeAll(async () => {
    // The orders reconciliation job runs every second here, so a test sees its metric move within seconds.
    const up = await cli.exec('up', '--set', 'orders.RECONCILIATION_INTERVAL_MS=1000');
    if (up.code !== 0) {
      await cli.exec('down');
      throw new Error(`lab up failed:\n${up.stderr}`);
    }
  }, 300_000);

  afterAll(async () => {
    if (process.env['CHAOS_TEST_KEEP_LAB'] !== '1') await cli.exec('down');
  }, 120_000);

  const run = async (
    id: string,
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number; journal: RunJournal }> => {
    const result = await (Object.keys(extraEnv).length ? labCli({ ...env, ...extraEnv }) : cli).exec(
      'chaos',
      'run',
      id,
      '--quick',
      '--json',
    );
    let journal: RunJournal;
    try {
      journal = JSON.parse(result.stdout) as RunJournal;
    } catch {
      throw new Error(`lab chaos run ${id} printed no journal (exit ${result.code}):\n${result.stderr.slice(-3000)}`);
    }
    // Every run leaves its report behind.
    expect(existsSync(join(journal.reportDir ?? '', 'report.html'))).toBe(true);
    expect(readFileSync(join(journal.reportDir ?? '', 'report.html'), 'utf8')).toContain('<svg');
    process.stdout.write(
      `${id}: ${journal.verdict} in ${journal.durationS} s — ${journal.reason}\n${journal.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join('\n')}\n`,
    );
    return { code: result.code, journal };
  };

  const expectPass = async (id: string) => {
    const { code, journal } = await run(id);
    expect({
      verdict: journal.verdict,
      failing: journal.checks.filter((c) => !c.ok),
      fired: journal.fault.fired,
    }).toEqual({ verdict: 'PASS', failing: [], fired: true });
    expect(code).toBe(0);
    return journal;
  };

  /** A naive twin: FAIL (as designed), exit 1, on exactly the checks its yaml names, every other check holding. */
  const expectFailAsDesigned = async (id: string) => {
    const { code, journal } = await run(id);
    expect({
      verdict: journal.verdict,
      asDesigned: journal.asDesigned,
      fired: journal.fault.fired,
      inconclusive: journal.checks.filter((c) => c.inconclusive).map((c) => c.check),
    }).toEqual({
      verdict: 'FAIL',
      asDesigned: true,
      fired: true,
      inconclusive: [],
    });
    expect(
      journal.checks
        .filter((c) => !c.ok)
        .map((c) => c.check)
        .sort(),
    ).toEqual([...(journal.experiment.mustFail ?? [])].sort());
    expect(code).toBe(1);
    return journal;
  };

  return { cli, layout, run, expectPass, expectFailAsDesigned };
}

export const check = (journal: RunJournal, name: string) => {
  const found = journal.checks.find((c) => c.check === name);
  if (!found) throw new Error(`${journal.id} has no check ${name}`);
  return found;
};
