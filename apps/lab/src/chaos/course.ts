// `lab chaos run --all`: the whole catalog in course order on one lab, then one summary (Markdown and HTML: verdict,
// expectation met or not, duration, link to each report) and, with --junit, the verdicts as JUnit XML for CI.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { reportsDir, type LabLayout } from '../layout/lab-layout';
import { loadCatalog } from './catalog';
import { verdictLabel } from './report';
import type { RunJournal } from './journal';

/**
 * The order a course takes: what can go wrong with one write, then with delivery, then under contention, then with
 * dependencies, then operations. An experiment missing here runs last, in id order (a test keeps the list whole).
 */
export const COURSE = [
  'dual-write-crash',
  'incident-repair',
  'relay-crash',
  'relay-crash-no-inbox',
  'relay-outage-wal',
  'relay-outage-wal-capped',
  'kafka-outage',
  'inventory-partition',
  'poison-message',
  'dlq-replay',
  'transient-failure',
  'transient-failure-no-retry',
  'double-submit',
  'last-item',
  'last-item-naive',
  'consistency-per-feature',
  'consistency-per-feature-naive',
  'postgres-outage',
  'recs-latency',
  'naive-fallback',
  'redis-down',
  'auth-attack',
  'auth-attack-naive',
  'overload',
  'n-plus-one',
  'online-migration',
  'online-migration-naive',
] as const;

export function courseOrder(ids: readonly string[]): string[] {
  const rank = (id: string) => {
    const at = (COURSE as readonly string[]).indexOf(id);
    return at === -1 ? COURSE.length : at;
  };
  return [...ids].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A run met its experiment's expectation: PASS for a correct one, FAIL as designed for a naive one. */
export const asExpected = (j: Pick<RunJournal, 'verdict' | 'asDesigned' | 'expected'>) =>
  j.expected === 'pass' ? j.verdict === 'PASS' : j.verdict === 'FAIL' && j.asDesigned;

export interface CourseResult {
  journals: RunJournal[];
  dir: string;
  ok: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function summaryMarkdown(journals: RunJournal[], dir: string): string {
  const met = journals.filter(asExpected).length;
  return [
    `# The whole catalog: ${met} of ${journals.length} as expected`,
    '',
    '| experiment | expected | verdict | as expected | duration | report |',
    '|---|---|---|---|---|---|',
    ...journals.map(
      (j) =>
        `| ${j.id} | ${j.expected === 'pass' ? 'PASS' : 'FAIL (as designed)'} | ${verdictLabel(j)} | ${asExpected(j) ? 'yes' : '**no**'} | ${j.durationS} s | [report](${relative(dir, j.reportDir ?? '')}/report.html) |`,
    ),
    '',
    ...journals
      .filter((j) => !asExpected(j))
      .flatMap((j) => [
        `## ${j.id}: ${verdictLabel(j)}`,
        '',
        j.reason,
        '',
        ...j.checks.filter((c) => !c.ok).map((c) => `- ${c.check}: ${c.detail}`),
        '',
      ]),
  ].join('\n');
}

export function summaryHtml(journals: RunJournal[], dir: string): string {
  const rows = journals
    .map(
      (j) =>
        `<tr><td>${esc(j.id)}</td><td>${j.expected === 'pass' ? 'PASS' : 'FAIL (as designed)'}</td><td style="font-weight:bold;color:${asExpected(j) ? '#2a7' : '#c33'}">${esc(verdictLabel(j))}</td><td>${j.durationS} s</td><td><a href="${esc(relative(dir, j.reportDir ?? ''))}/report.html">report</a></td><td>${esc(j.reason)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faultline: the whole catalog</title>
<style>body{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}</style></head><body>
<h1>The whole catalog: ${journals.filter(asExpected).length} of ${journals.length} as expected</h1>
<table><tr><th>experiment</th><th>expected</th><th>verdict</th><th>duration</th><th>report</th><th>reason</th></tr>${rows}</table>
</body></html>
`;
}

/** One testsuite, one testcase per experiment; a run that did not meet its expectation is a failure naming why. */
export function junitXml(journals: RunJournal[]): string {
  const failures = journals.filter((j) => !asExpected(j)).length;
  const total = journals.reduce((s, j) => s + j.durationS, 0);
  const cases = journals.map((j) => {
    const head = `  <testcase classname="chaos.${j.target}" name="${esc(j.id)}" time="${j.durationS}">`;
    if (asExpected(j)) return `${head}</testcase>`;
    const failed = j.checks
      .filter((c) => !c.ok)
      .map((c) => `${c.check}${c.inconclusive ? ' (inconclusive)' : ''}: ${c.detail}`);
    return `${head}\n    <failure type="${j.verdict}" message="${esc(`${verdictLabel(j)}, expected ${j.expected === 'pass' ? 'PASS' : 'FAIL (as designed)'}: ${j.reason}`)}">${esc(failed.join('\n'))}</failure>\n  </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="faultline chaos" tests="${journals.length}" failures="${failures}" time="${total.toFixed(1)}">\n${cases.join('\n')}\n</testsuite>\n`;
}

/** Runs every experiment in course order through `run`, writing the summary under <state>/reports/<time>-all/. */
export async function runCourse(
  layout: LabLayout,
  run: (id: string) => Promise<RunJournal>,
  options: { junit?: string; log: (m: string) => void },
): Promise<CourseResult> {
  const ids = courseOrder(loadCatalog(layout.root).map((e) => e.experiment.id));
  const journals: RunJournal[] = [];
  for (const [i, id] of ids.entries()) {
    options.log(`course ${i + 1}/${ids.length}: ${id}`);
    const journal = await run(id);
    journals.push(journal);
    options.log(
      `course ${i + 1}/${ids.length}: ${id} ${verdictLabel(journal)} in ${journal.durationS} s${asExpected(journal) ? '' : ' (NOT as expected)'}`,
    );
  }
  const dir = join(reportsDir(layout), `${new Date().toISOString().replace(/[:.]/g, '-')}-all`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'summary.md'), summaryMarkdown(journals, dir));
  writeFileSync(join(dir, 'summary.html'), summaryHtml(journals, dir));
  if (options.junit) {
    mkdirSync(dirname(options.junit), { recursive: true });
    writeFileSync(options.junit, junitXml(journals));
  }
  return { journals, dir, ok: journals.every(asExpected) };
}
