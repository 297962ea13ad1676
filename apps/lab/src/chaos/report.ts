// Reports of chaos runs under <state>/reports/<timestamp>-<id>/ (.lab/reports/ by default): report.md, a
// self-contained report.html (verdict table + an inline SVG timeline of throughput, p99 and errors with the fault
// window shaded), journal.json (the whole run, for comparing runs) and records.json (every request's timing).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportsDir, type LabLayout } from '../layout/lab-layout';
import { readJson } from '../supervisor/supervisor-files';
import { percentile, RequestRecord } from '@faultline/load';
import type { RunJournal } from './journal';

export interface TimelinePoint {
  s: number;
  throughput: number;
  p99: number;
  errors: number;
}

/** Per second of the load: answers completed, p99 latency of the requests started that second, errors. */
export function timeline(records: RequestRecord[]): TimelinePoint[] {
  const last = Math.max(0, ...records.map((r) => Math.floor((r.t + r.ms) / 1000)));
  return Array.from({ length: last + 1 }, (_, s) => {
    const started = records.filter((r) => Math.floor(r.t / 1000) === s);
    return {
      s,
      throughput: records.filter((r) => Math.floor((r.t + r.ms) / 1000) === s).length,
      p99: Math.round(
        percentile(
          started.map((r) => r.ms),
          99,
        ),
      ),
      errors: started.filter((r) => r.status === 0 || r.status >= 500).length,
    };
  });
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function timelineSvg(points: TimelinePoint[], window: { injectedAt?: number; healedAt?: number }): string {
  const W = 860;
  const H = 110;
  const left = 60;
  const n = Math.max(1, points.length - 1);
  const x = (s: number) => left + (s / n) * (W - left - 10);
  const panel = (title: string, values: number[], color: string, offset: number) => {
    const max = Math.max(1, ...values);
    const y = (v: number) => offset + H - 10 - (v / max) * (H - 30);
    const path = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return [
      `<text x="4" y="${offset + 14}" font-size="12" fill="#333">${esc(title)}</text>`,
      `<text x="${left - 4}" y="${offset + 24}" font-size="10" text-anchor="end" fill="#666">${max}</text>`,
      `<text x="${left - 4}" y="${offset + H - 10}" font-size="10" text-anchor="end" fill="#666">0</text>`,
      `<line x1="${left}" y1="${offset + H - 10}" x2="${W - 10}" y2="${offset + H - 10}" stroke="#ccc"/>`,
      `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.8"/>`,
    ].join('');
  };
  const shade =
    window.injectedAt !== undefined
      ? `<rect x="${x(window.injectedAt / 1000).toFixed(1)}" y="0" width="${Math.max(2, x((window.healedAt ?? window.injectedAt + 500) / 1000) - x(window.injectedAt / 1000)).toFixed(1)}" height="${3 * H + 20}" fill="#f44" opacity="0.15"><title>fault window</title></rect>`
      : '';
  const axis = points
    .filter((p) => p.s % 5 === 0)
    .map(
      (p) =>
        `<text x="${x(p.s).toFixed(1)}" y="${3 * H + 16}" font-size="10" text-anchor="middle" fill="#666">${p.s}s</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${3 * H + 24}" viewBox="0 0 ${W} ${3 * H + 24}" role="img" aria-label="timeline">${shade}${panel(
    'throughput (answers/s)',
    points.map((p) => p.throughput),
    '#2a7',
    0,
  )}${panel(
    'p99 latency (ms)',
    points.map((p) => p.p99),
    '#36c',
    H,
  )}${panel(
    'errors (5xx or no answer)/s',
    points.map((p) => p.errors),
    '#c33',
    2 * H,
  )}${axis}</svg>`;
}

/** The verdict as a reader should see it: a naive experiment's expected failure says so. */
export const verdictLabel = (j: Pick<RunJournal, 'verdict' | 'asDesigned'>) =>
  j.verdict === 'FAIL' && j.asDesigned ? 'FAIL (as designed)' : j.verdict;

/**
 * Where to look, as lines: each Grafana panel by dashboard and title, each Jaeger search by service, operation and
 * tags.
 */
export function whereToLook(j: RunJournal): string[] {
  return [
    ...j.experiment.observe.grafana.map((g) => `Grafana: ${g.dashboard} → ${g.panel}: ${g.why}`),
    ...j.experiment.observe.jaeger.map(
      (q) =>
        `Jaeger: service ${q.service}${q.operation ? `, operation ${q.operation}` : ''}${
          q.tags
            ? `, tags ${Object.entries(q.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : ''
        }: ${q.why}`,
    ),
    ...(j.target === 'local'
      ? [
          "Locally there is no Grafana or Jaeger: `lab trace <order-id>` prints one order's spans (a variant's copy of a service is named <service>-chaos there)",
        ]
      : []),
  ];
}

export function reportMarkdown(j: RunJournal): string {
  const lines = [
    `# ${j.id}: ${verdictLabel(j)}`,
    '',
    `- Question: ${j.experiment.question}`,
    `- Hypothesis: ${j.experiment.hypothesis}`,
    `- Verdict: **${verdictLabel(j)}** — ${j.reason}${j.expected === 'fail' ? ` (this experiment runs a naive variant: it must fail ${j.experiment.mustFail?.join(', ')}, and only those)` : ''}`,
    `- Run ${j.runId}, target ${j.target}${j.quick ? ', quick profile' : ''}${j.sabotaged ? ', SABOTAGED (driver disabled)' : ''}; ${j.startedAt} → ${j.finishedAt} (${j.durationS} s)`,
    `- Fault: ${j.fault.driver}, ${j.fault.fired ? 'fired' : 'NOT proven'}${j.fault.window.injectedAt !== undefined ? ` at +${(j.fault.window.injectedAt / 1000).toFixed(1)} s, healed at +${((j.fault.window.healedAt ?? 0) / 1000).toFixed(1)} s` : ''}`,
    ...j.fault.evidence.map((e) => `  - ${e}`),
    `- Convergence: ${j.convergence.converged ? 'reached' : 'NOT reached'} after ${j.convergence.waitedS} s`,
    '',
    '## Verdict checks',
    '',
    '| check | result | detail |',
    '|---|---|---|',
    ...j.checks.map(
      (c) =>
        `| ${c.check} | ${c.inconclusive ? 'INCONCLUSIVE' : c.ok ? 'holds' : 'FAILS'} | ${c.detail.replace(/\|/g, '\\|')} |`,
    ),
    '',
    ...(j.checks.some((c) => c.damage?.length)
      ? ['## Damage', '', ...j.checks.flatMap((c) => (c.damage ?? []).map((d) => `- ${c.check}: ${d}`)), '']
      : []),
    '## Steady state',
    '',
    ...j.steadyState.map((p) => `- ${p.probe}: ${p.ok ? 'holds' : 'does not hold'} (${p.detail})`),
    ...j.steadyStateAfter.map((p) => `- after heal, ${p.probe}: ${p.ok ? 'holds' : 'does not hold'} (${p.detail})`),
    '',
    '## Load',
    '',
    '| route | requests | 2xx | errors | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|',
    ...Object.entries(j.load.summary).map(
      ([route, s]) => `| ${route} | ${s.n} | ${s.ok} | ${s.errors} | ${s.p50} | ${s.p99} |`,
    ),
    '',
    '## Where to look',
    '',
    ...whereToLook(j).map((w) => `- ${w}`),
    ...(j.links ?? []).map((l) => `- [${l.label}](${l.url})`),
    '',
    '## Journal',
    '',
    ...j.events.map((e) => `- ${e.t} ${e.message}`),
    '',
  ];
  return lines.join('\n');
}

export function reportHtml(j: RunJournal, records: RequestRecord[]): string {
  const color =
    j.verdict === 'PASS' || j.asDesigned ? '#2a7' : j.verdict === 'FAIL' || j.verdict === 'DEVIATION' ? '#c33' : '#c80';
  const rows = j.checks
    .map(
      (c) =>
        `<tr><td>${esc(c.check)}</td><td style="color:${c.inconclusive ? '#c80' : c.ok ? '#2a7' : '#c33'};font-weight:bold">${c.inconclusive ? 'INCONCLUSIVE' : c.ok ? 'holds' : 'FAILS'}</td><td>${esc(c.detail)}${(c.damage ?? []).length ? `<ul>${(c.damage ?? []).map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : ''}</td></tr>`,
    )
    .join('');
  const load = Object.entries(j.load.summary)
    .map(
      ([route, s]) =>
        `<tr><td>${esc(route)}</td><td>${s.n}</td><td>${s.ok}</td><td>${s.errors}</td><td>${s.p50}</td><td>${s.p99}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(j.id)}: ${verdictLabel(j)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}.v{font-size:22px;font-weight:bold;color:${color}}</style></head><body>
<h1>${esc(j.id)} <span class="v">${verdictLabel(j)}</span></h1>
<p><b>Question:</b> ${esc(j.experiment.question)}<br><b>Hypothesis:</b> ${esc(j.experiment.hypothesis)}<br><b>Verdict:</b> ${esc(j.reason)}${j.expected === 'fail' ? ` <i>(naive variant: it must fail ${esc(j.experiment.mustFail?.join(', ') ?? '')}, and only those)</i>` : ''}</p>
<p>Run ${esc(j.runId)} on ${j.target}${j.quick ? ' (quick profile)' : ''}${j.sabotaged ? ' <b>SABOTAGED: driver disabled</b>' : ''}, ${esc(j.startedAt)}, ${j.durationS} s. Fault <b>${esc(j.fault.driver)}</b>: ${j.fault.fired ? 'fired' : '<b>NOT proven</b>'}.</p>
<ul>${j.fault.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>
<h2>Verdict checks</h2><table><tr><th>check</th><th>result</th><th>detail</th></tr>${rows}</table>
<h2>Timeline</h2><p>Shaded: the fault window.</p>${timelineSvg(timeline(records), j.fault.window)}
<h2>Load</h2><table><tr><th>route</th><th>requests</th><th>2xx</th><th>errors</th><th>p50 ms</th><th>p99 ms</th></tr>${load}</table>
<h2>Where to look</h2><ul>${whereToLook(j)
    .map((g) => `<li>${esc(g)}</li>`)
    .join('')}${(j.links ?? []).map((l) => `<li><a href="${esc(l.url)}">${esc(l.label)}</a></li>`).join('')}</ul>
<h2>Journal</h2><pre>${esc(j.events.map((e) => `${e.t} ${e.message}`).join('\n'))}</pre>
</body></html>
`;
}

export function writeReport(layout: LabLayout, journal: RunJournal, records: RequestRecord[]): string {
  const stamp = journal.startedAt.replace(/[:.]/g, '-');
  const dir = join(reportsDir(layout), `${stamp}-${journal.id}`);
  mkdirSync(dir, { recursive: true });
  journal.reportDir = dir;
  writeFileSync(join(dir, 'journal.json'), JSON.stringify(journal, null, 2) + '\n');
  writeFileSync(join(dir, 'records.json'), JSON.stringify(records) + '\n');
  writeFileSync(join(dir, 'report.md'), reportMarkdown(journal));
  writeFileSync(join(dir, 'report.html'), reportHtml(journal, records));
  return dir;
}

export function listReports(
  layout: LabLayout,
): { dir: string; id: string; verdict: string; startedAt: string; durationS: number }[] {
  const root = reportsDir(layout);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .flatMap((name) => {
      const j = readJson<RunJournal>(join(root, name, 'journal.json'));
      return j
        ? [
            {
              dir: join(root, name),
              id: j.id,
              verdict: verdictLabel(j),
              startedAt: j.startedAt,
              durationS: j.durationS,
            },
          ]
        : [];
    });
}
