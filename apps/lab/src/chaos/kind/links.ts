// Where to look after a kind run, as URLs a browser opens on the host (k8s/kind/cluster.yaml maps Grafana to
// localhost:3000 and Jaeger to localhost:16686): each panel the experiment names, on its dashboard, over the run's
// time window; each Jaeger search it names, over the same window; and a few of the run's own orders by `order.id`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIND_URLS } from '../../kind/kind-plan';
import type { Experiment } from '../experiment-schema';

interface Dashboard {
  uid: string;
  title: string;
  panels: { id: number; title: string }[];
}

export function provisionedDashboards(root: string): Dashboard[] {
  const dir = join(root, 'k8s', 'base', 'grafana', 'dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard);
}

/** How many of the run's orders get their own Jaeger link: enough to open one that failed and one that did not. */
export const ORDER_LINKS = 3;

/**
 * The links of one run over [fromMs, toMs] (epoch ms, padded by 30 s each side so the panels show before and after).
 * A panel or dashboard the experiment names but Grafana does not have is an error: a static test keeps them resolved.
 */
export function kindLinks(
  dashboards: Dashboard[],
  experiment: Pick<Experiment, 'observe'>,
  fromMs: number,
  toMs: number,
  orderIds: string[],
): { label: string; url: string }[] {
  const from = Math.floor(fromMs - 30_000);
  const to = Math.ceil(toMs + 30_000);
  const grafana = experiment.observe.grafana.map((g) => {
    const dashboard = dashboards.find((d) => d.title === g.dashboard);
    const panel = dashboard?.panels.find((p) => p.title === g.panel);
    if (!dashboard || !panel) throw new Error(`no Grafana panel "${g.panel}" on dashboard "${g.dashboard}"`);
    return {
      label: `Grafana: ${g.dashboard} → ${g.panel}`,
      url: `${KIND_URLS.grafana}/d/${dashboard.uid}?${new URLSearchParams({ from: String(from), to: String(to), viewPanel: String(panel.id) })}`,
    };
  });
  const search = (service: string, extra: Record<string, string>) =>
    `${KIND_URLS.jaeger}/search?${new URLSearchParams({ service, start: String(from * 1000), end: String(to * 1000), limit: '20', ...extra })}`;
  const jaeger = experiment.observe.jaeger.map((q) => ({
    label: `Jaeger: ${q.service}${q.operation ? ` ${q.operation}` : ''}${
      q.tags
        ? ` ${Object.entries(q.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
        : ''
    }`,
    url: search(q.service, {
      ...(q.operation ? { operation: q.operation } : {}),
      ...(q.tags ? { tags: JSON.stringify(q.tags) } : {}),
    }),
  }));
  const orders = orderIds.slice(0, ORDER_LINKS).map((id) => ({
    label: `Jaeger: this run's order ${id}`,
    url: search('gateway', { tags: JSON.stringify({ 'order.id': id }) }),
  }));
  return [...grafana, ...jaeger, ...orders];
}
