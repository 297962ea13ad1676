import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '../../layout/lab-layout';
import { CHAOS_ANNOTATION_TAG, grafanaAnnotations } from './kind-chaos-plan';
import { loadCatalog } from '../catalog';
import { kindLinks, provisionedDashboards } from './links';

const root = findRepoRoot();

describe('links of a kind run', () => {
  const dashboards = provisionedDashboards(root);

  it('resolves every panel the catalog names to its dashboard uid and panel id, over the run padded by 30 s', () => {
    for (const { experiment } of loadCatalog(root)) {
      const links = kindLinks(dashboards, experiment, 1_700_000_000_000, 1_700_000_060_000, [
        'o-1',
        'o-2',
        'o-3',
        'o-4',
      ]);
      const grafana = links.filter((l) => l.label.startsWith('Grafana'));
      expect(grafana).toHaveLength(experiment.observe.grafana.length);
      for (const l of grafana) {
        const url = new URL(l.url);
        expect(url.origin).toBe('http://localhost:3000');
        expect(url.pathname).toMatch(/^\/d\/faultline-[a-z]+$/);
        expect(url.searchParams.get('from')).toBe('1699999970000');
        expect(url.searchParams.get('to')).toBe('1700000090000');
        expect(Number(url.searchParams.get('viewPanel'))).toBeGreaterThan(0);
      }
      // Three of the run's orders, each a Jaeger search by order.id within the window (microseconds).
      const orders = links.filter((l) => l.label.startsWith("Jaeger: this run's order"));
      expect(orders.map((l) => JSON.parse(new URL(l.url).searchParams.get('tags') ?? '{}'))).toEqual([
        { 'order.id': 'o-1' },
        { 'order.id': 'o-2' },
        { 'order.id': 'o-3' },
      ]);
      expect(new URL(orders[0].url).searchParams.get('start')).toBe('1699999970000000');
    }
  });

  it('every dashboard shows the chaos runs the kind runner annotates (an annotation query on its tag)', () => {
    for (const file of readdirSync(join(root, 'k8s', 'base', 'grafana', 'dashboards')).filter((f) =>
      f.endsWith('.json'),
    )) {
      const d = JSON.parse(readFileSync(join(root, 'k8s', 'base', 'grafana', 'dashboards', file), 'utf8')) as {
        annotations?: { list?: { enable?: boolean; target?: { type?: string; tags?: string[] } }[] };
      };
      const query = d.annotations?.list?.find(
        (a) => a.target?.type === 'tags' && a.target.tags?.includes(CHAOS_ANNOTATION_TAG),
      );
      expect({ file, shown: Boolean(query?.enable) }).toEqual({ file, shown: true });
    }
  });

  it('annotates a run as its start, the fault as a region, and the verdict', () => {
    const a = grafanaAnnotations({
      id: 'relay-crash',
      runId: 'ab12cd',
      startedAt: 1000,
      loadStartedAt: 5000,
      window: { injectedAt: 2000, healedAt: 9000 },
      finishedAt: 30_000,
      verdict: 'PASS',
      reason: '',
    });
    expect(a).toEqual([
      {
        time: 1000,
        tags: [CHAOS_ANNOTATION_TAG, 'relay-crash', 'run-ab12cd', 'start'],
        text: 'relay-crash (run ab12cd) started',
      },
      {
        time: 7000,
        timeEnd: 14_000,
        tags: [CHAOS_ANNOTATION_TAG, 'relay-crash', 'run-ab12cd', 'fault'],
        text: 'relay-crash: fault injected → healed',
      },
      { time: 30_000, tags: [CHAOS_ANNOTATION_TAG, 'relay-crash', 'run-ab12cd', 'verdict'], text: 'relay-crash: PASS' },
    ]);
  });

  it('refuses a panel Grafana does not have, instead of a link to nothing', () => {
    const experiment = {
      observe: { grafana: [{ dashboard: 'Faultline: resilience', panel: 'No such panel', why: 'x' }], jaeger: [] },
    };
    expect(() => kindLinks(dashboards, experiment, 0, 1, [])).toThrow(
      'no Grafana panel "No such panel" on dashboard "Faultline: resilience"',
    );
  });
});
