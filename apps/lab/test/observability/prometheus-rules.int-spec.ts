// The repo's Prometheus rules (k8s/base/prometheus/rules/, loaded by both targets) pass `promtool check rules`, their
// unit tests (k8s/base/prometheus/tests/) pass `promtool test rules`, and every alert is tested both ways: at least
// one case where it fires and one where it stays silent.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot } from '@faultline/testing';

const run = promisify(execFile);
const PROMETHEUS_DIR = join(repoRoot, 'k8s', 'base', 'prometheus');
const ruleFiles = readdirSync(join(PROMETHEUS_DIR, 'rules'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(PROMETHEUS_DIR, 'rules', f));
const testFiles = readdirSync(join(PROMETHEUS_DIR, 'tests'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(PROMETHEUS_DIR, 'tests', f));

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: repoRoot, timeout: 120_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        'promtool not found on PATH: install Prometheus (Debian: apt-get install prometheus); CI installs it',
      );
    }
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface RuleGroup {
  rules: { alert?: string; record?: string }[];
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[];
}

describe('Prometheus rules', () => {
  it('has rule files and unit tests', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(testFiles.length).toBeGreaterThan(0);
  });

  it('passes promtool check rules', async () => {
    const result = await promtool('check', 'rules', ...ruleFiles);
    if (result.code !== 0) throw new Error(`promtool check rules failed:\n${result.output}`);
  });

  it('passes promtool test rules', async () => {
    const result = await promtool('test', 'rules', ...testFiles);
    if (result.code !== 0) throw new Error(`promtool test rules failed:\n${result.output}`);
  });

  it('tests every alert firing in one case and silent in another', () => {
    const alerts = ruleFiles.flatMap((f) =>
      (parse(readFileSync(f, 'utf8')) as { groups: RuleGroup[] }).groups.flatMap((g) =>
        g.rules.flatMap((r) => (r.alert ? [r.alert] : [])),
      ),
    );
    const cases = testFiles.flatMap((f) =>
      (parse(readFileSync(f, 'utf8')) as { tests: RuleTest[] }).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    const coverage = alerts.map((alert) => ({
      alert,
      fires: cases.some((c) => c.alertname === alert && (c.exp_alerts ?? []).length > 0),
      silent: cases.some((c) => c.alertname === alert && (c.exp_alerts ?? []).length === 0),
    }));
    expect(coverage.filter((c) => !c.fires || !c.silent)).toEqual([]);
  });
});
