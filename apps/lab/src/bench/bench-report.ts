// What one `lab bench` writes: every run's raw numbers, the medians, spreads and same-run ratios (JSON), and the
// table a reader wants (Markdown), where each figure stands next to its baseline.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { describeDrift, type CpuDrift } from './bench-machine';
import { percent, type Aggregate, type BenchFigure } from './bench-stats';
import type { BenchSettings } from './scenarios/scenario';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  gitCommit: string;
  gitDirty: boolean;
  /** 1-minute load average when the suite started and when it ended: how busy the machine was. */
  loadAverage: { start: number; end?: number };
  /** How much the machine's own speed drifted, timed before the lab started (not in the smoke mode). */
  cpuDrift?: CpuDrift;
  /** The share of CPU time stolen by the hypervisor (other guests) over the whole suite, 0 … 1. */
  cpuStolen?: number;
}

export interface BenchResult {
  /**
   * `valid`, or `refused` (too noisy: the figures are kept as raw runs, not as a result) or `smoke` (no noise rule).
   */
  status: 'valid' | 'refused' | 'smoke';
  startedAt: string;
  durationS: number;
  settings: BenchSettings;
  maxSpread: number;
  noisy: string[];
  machine: MachineInfo;
  figures: BenchFigure[];
}

export function machineInfo(root: string): MachineInfo {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${release()}`,
    gitCommit: git('rev-parse', 'HEAD') || 'unknown',
    gitDirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    loadAverage: { start: loadavg()[0] },
  };
}

/** Three significant digits or so: enough for a benchmark, no false precision. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  return n.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

/** `median unit ± spread`; one run has no spread to show, and says so. */
const withSpread = (a: Aggregate, unit: string) =>
  `${formatNumber(a.median)} ${unit}${a.runs.length < 2 ? ' (1 run)' : ` ± ${percent(a.spread)}`}`;

/** `×R ± spread`: the same-run ratio, the figure's claim. */
const ratioWithSpread = (f: BenchFigure) =>
  `×${formatNumber(f.ratio.median)}${f.ratio.runs.length < 2 ? '' : ` ± ${percent(f.ratio.spread)}`}${f.boundBy === undefined ? '' : ` (not judged: the value is bound by ${f.boundBy})`}`;

/** `figure ± spread (baseline X ± s, ratio ×Y ± s)`, the one-line form of a figure. */
export function figureLine(f: BenchFigure): string {
  return `${withSpread(f.value, f.unit)} (baseline ${f.baseline.label}: ${withSpread(f.baseline, f.unit)}, ratio ${ratioWithSpread(f)})`;
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine;
  const rows = result.figures.map(
    (f) =>
      `| ${f.area} | ${f.label} | ${withSpread(f.value, f.unit)} | ${f.baseline.label}: ${withSpread(f.baseline, f.unit)} | ${ratioWithSpread(f)} |`,
  );
  return [
    `# Benchmarks, ${result.startedAt.slice(0, 10)}${result.settings.quick ? ', quick profile' : ''}${result.status === 'valid' ? '' : ` (${result.status})`}`,
    '',
    `Medians of ${result.settings.runs} runs; ± is the spread (interquartile range / median) over those runs; the ratio is`,
    `figure / baseline within each run, then the median of those (the noise rule: every ratio's spread at most ${percent(result.maxSpread)},`,
    `every value's and baseline's at most ${percent(2 * result.maxSpread)}; a value bound by a configuration is judged at ${percent(result.maxSpread)} instead of its ratio). Machine: ` +
      `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, node ${m.node}; load average ${m.loadAverage.start.toFixed(2)} at the start` +
      `${m.loadAverage.end === undefined ? '' : `, ${m.loadAverage.end.toFixed(2)} at the end`}; commit ${m.gitCommit.slice(0, 12)}${m.gitDirty ? ' (with local changes)' : ''}; ` +
      `${result.durationS} s in all` +
      (m.cpuStolen === undefined
        ? '.'
        : `; the hypervisor took ${percent(m.cpuStolen)} of the CPU time (steal) meanwhile.`) +
      (m.cpuDrift ? ` Before the lab started, on this machine alone, ${describeDrift(m.cpuDrift)}.` : '') +
      ' What each figure means: [bench/README.md](../README.md).',
    '',
    '| area | figure | median ± spread | baseline (same runs) | ratio ± spread |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(result.noisy.length > 0
      ? [
          `Too noisy (ratio spread above ${percent(result.maxSpread)}, or value or baseline above ${percent(2 * result.maxSpread)}):`,
          '',
          ...result.noisy.map((n) => `- ${n}`),
          '',
        ]
      : []),
  ].join('\n');
}
