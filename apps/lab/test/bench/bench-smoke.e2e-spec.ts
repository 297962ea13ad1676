// `lab bench --smoke` end to end, so the suite cannot rot: the real suite (the built CLI, as `npm run bench` runs
// it) as a child process, on the bench lab (.lab/bench, ports +3600), with tiny durations and one run. Every figure of
// the six areas must come out with a finite value, a baseline and a ratio. Numbers are not judged here: that is what
// the full suite and its noise rule are for (the rule itself is unit-tested in src/bench/bench-stats.spec.ts).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, labCli, processesOfLab, repoRoot } from '@faultline/testing';
import type { BenchResult } from '../../src/bench/bench-report';
import { BENCH_PORT_OFFSET, BENCH_SERVICES, BENCH_STATE_DIR } from '../../src/bench/bench-lab';
import { CPU_PROCESSES } from '../../src/bench/scenarios/cpu.scenario';
import { findPrometheus } from '../../src/infra/prometheus';

const EXPECTED: Record<string, string[]> = {
  orders: ['gateway-throughput', 'end-to-end-throughput', 'gateway-p50', 'gateway-p99'],
  memory: [...BENCH_SERVICES],
  relay: ['throughput', 'lag-p50', 'lag-p99'],
  recommendations: ['stall-p99'],
  'list-orders': ['queries', 'p50', 'p99'],
  'rate-limit': ['p50', 'p99', 'decisions'],
  // Every lab process, Prometheus where it is installed (the lab runs without it).
  cpu: ['per-order', 'idle', ...CPU_PROCESSES.filter((p) => p !== 'prometheus' || findPrometheus())],
};

// The orders latency phase has its own length (--orders-fixed-seconds), apart from the relay lag's (--fixed-seconds):
// the run is given one that differs from the smoke profile's 1 s, so the option is proven read and obeyed.
const ORDERS_FIXED_SECONDS = 2;

const env = { LAB_STATE_DIR: BENCH_STATE_DIR, LAB_PORT_OFFSET: BENCH_PORT_OFFSET, LAB_GATEWAY_PORT: '' };

let run: { code: number; stdout: string; stderr: string };
let result: BenchResult;
let labWasRunning = false;

beforeAll(async () => {
  labWasRunning = (await labCli(env).status()).some((c) => c.name === 'supervisor' && c.state === 'running');
  run = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'apps/lab/bin/lab.js'), 'bench', '--smoke', `--orders-fixed-seconds=${ORDERS_FIXED_SECONDS}`],
      { cwd: repoRoot, env: { ...process.env, ...env, BENCH_SMOKE: '' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
  const file = /^results: (.+)$/m.exec(run.stdout)?.[1];
  if (run.code !== 0 || !file) throw new Error(`bench --smoke exited ${run.code}:\n${run.stderr.slice(-4000)}`);
  result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
}, 600_000);

describe('lab bench --smoke', () => {
  it('writes its results under the bench lab state folder, never bench/results, with the machine described', () => {
    const file = /^results: (.+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(file.startsWith(join(repoRoot, BENCH_STATE_DIR))).toBe(true);
    expect(existsSync(file.replace(/\.json$/, '.md'))).toBe(true);
    expect(result.status).toBe('smoke');
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(result.machine.gitCommit).toMatch(/^[0-9a-f]{40}$|^unknown$/);
  });

  it.each(Object.entries(EXPECTED))(
    'measures every figure of %s with a finite value, baseline and ratio',
    (area, ids) => {
      const figures = result.figures.filter((f) => f.area === area);
      expect(figures.map((f) => f.id).sort()).toEqual(ids.map((id) => `${area}.${id}`).sort());
      for (const f of figures) {
        expect({
          id: f.id,
          value: Number.isFinite(f.value.median),
          baseline: Number.isFinite(f.baseline.median),
          ratio: Number.isFinite(f.ratio.median),
        }).toEqual({ id: f.id, value: true, baseline: true, ratio: true });
        expect(f.baseline.label).not.toBe('');
        expect(f.value.runs).toHaveLength(result.settings.runs);
      }
    },
  );

  it('runs the orders latency phase for --orders-fixed-seconds, and the relay lag for its own --fixed-seconds', () => {
    expect({ ordersFixedMs: result.settings.ordersFixedMs, fixedMs: result.settings.fixedMs }).toEqual({
      ordersFixedMs: ORDERS_FIXED_SECONDS * 1000,
      fixedMs: 1000,
    });
    expect(run.stderr).toContain(`POST /v1/orders, each at 20/s, side by side for ${ORDERS_FIXED_SECONDS} s`);
  });

  it('prints each figure next to its baseline and ratio', () => {
    expect(run.stdout).toMatch(/\d \S+ \(1 run\) \(baseline .+: \d.* \(1 run\), ratio ×\d/);
  });

  it('leaves no process of the bench lab behind when it started the lab itself', () => {
    if (labWasRunning) return;
    expect(processesOfLab(BENCH_STATE_DIR, join(repoRoot, BENCH_STATE_DIR)).filter(isAlive)).toEqual([]);
  });
});
