import { figureLine, formatNumber, renderMarkdown, type BenchResult } from './bench-report';
import { aggregateFigures, BenchSample } from './bench-stats';

const sample = (value: number, baseline: number): BenchSample => ({
  area: 'relay',
  id: 'relay.throughput',
  label: 'relay drain rate',
  unit: 'events/s',
  baselineLabel: 'raw producer',
  value,
  baseline,
});

describe('bench report lines', () => {
  it('prints the median with its spread next to the baseline and the same-run ratio', () => {
    const [figure] = aggregateFigures([
      sample(1000, 4000),
      sample(1100, 4000),
      sample(900, 4100),
      sample(1000, 3900),
      sample(1050, 4000),
    ]);
    // Ratios per run 0.25, 0.275, 0.220, 0.256, 0.263: their median, not 1000 / 4000, and their spread.
    expect(figureLine(figure)).toBe(
      '1000 events/s ± 5.0% (baseline raw producer: 4000 events/s ± 0.0%, ratio ×0.26 ± 4.9%)',
    );
  });

  it('says when a figure comes from one run instead of showing a spread it does not have', () => {
    const [figure] = aggregateFigures([sample(12.345, 3.2)]);
    expect(figureLine(figure)).toBe(
      '12.3 events/s (1 run) (baseline raw producer: 3.20 events/s (1 run), ratio ×3.86)',
    );
    expect(formatNumber(Number.NaN)).toBe('n/a');
  });

  it("heads the table with the machine, the hypervisor's steal included", () => {
    const result = {
      status: 'valid',
      startedAt: '2026-11-28T12:00:00.000Z',
      durationS: 3359,
      settings: { runs: 5 },
      maxSpread: 0.2,
      noisy: [],
      machine: {
        cpus: 2,
        cpuModel: 'Test CPU',
        memoryGiB: 23.5,
        node: 'v24.9.0',
        platform: 'linux 6',
        gitCommit: 'abcdef0123456789',
        gitDirty: false,
        loadAverage: { start: 1, end: 2 },
        cpuStolen: 0.134,
      },
      figures: aggregateFigures([sample(1000, 4000)]),
    } as unknown as BenchResult;
    const markdown = renderMarkdown(result);
    expect(markdown).toContain('3359 s in all; the hypervisor took 13% of the CPU time (steal) meanwhile.');
    expect(markdown).toContain(
      '| relay | relay drain rate | 1000 events/s (1 run) | raw producer: 4000 events/s (1 run) | ×0.25 |',
    );
    expect(renderMarkdown({ ...result, machine: { ...result.machine, cpuStolen: undefined } })).toContain(
      '3359 s in all. ',
    );
    expect(markdown.split('\n')[0]).toBe('# Benchmarks, 2026-11-28');
    const quick = { ...result, settings: { ...result.settings, runs: 3, quick: true } } as BenchResult;
    expect(renderMarkdown(quick).split('\n')[0]).toBe('# Benchmarks, 2026-11-28, quick profile');
  });
});
