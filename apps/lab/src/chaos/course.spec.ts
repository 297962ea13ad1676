import { repoRoot } from '@faultline/testing';
import { loadCatalog } from './catalog';
import { asExpected, COURSE, courseOrder, junitXml, summaryMarkdown } from './course';
import type { RunJournal } from './journal';

const journal = (
  id: string,
  expected: 'pass' | 'fail',
  verdict: RunJournal['verdict'],
  asDesigned = false,
): RunJournal =>
  ({
    id,
    expected,
    verdict,
    asDesigned,
    target: 'local',
    durationS: 12.5,
    reason: `${id} because`,
    reportDir: `/r/${id}`,
    checks: [
      {
        check: 'stock-conservation',
        ok: verdict === 'PASS',
        inconclusive: verdict === 'INCONCLUSIVE',
        detail: 'SKU-0049 oversold',
      },
    ],
  }) as unknown as RunJournal;

describe('the course', () => {
  it('names every experiment of the catalog once', () => {
    const ids = loadCatalog(repoRoot)
      .map((e) => e.experiment.id)
      .sort();
    expect([...COURSE].sort()).toEqual(ids);
    expect(new Set(COURSE).size).toBe(COURSE.length);
  });

  it('runs in course order, anything unlisted last', () => {
    expect(courseOrder(['zeta-new', 'last-item', 'dual-write-crash'])).toEqual([
      'dual-write-crash',
      'last-item',
      'zeta-new',
    ]);
  });

  it('meets an expectation only with PASS for a correct experiment and FAIL as designed for a naive one', () => {
    expect(
      [
        journal('a', 'pass', 'PASS'),
        journal('b', 'fail', 'FAIL', true),
        journal('c', 'fail', 'FAIL'),
        journal('d', 'pass', 'INCONCLUSIVE'),
        journal('e', 'fail', 'DEVIATION'),
      ].map(asExpected),
    ).toEqual([true, true, false, false, false]);
  });

  it('writes JUnit XML with a failure, naming the verdict and the failed checks, for each run not as expected', () => {
    const xml = junitXml([
      journal('relay-crash', 'pass', 'PASS'),
      journal('last-item-naive', 'fail', 'DEVIATION'),
      journal('kafka-outage', 'pass', 'INCONCLUSIVE'),
    ]);
    expect(xml).toContain('<testsuite name="faultline chaos" tests="3" failures="2" time="37.5">');
    expect(xml).toContain('<testcase classname="chaos.local" name="relay-crash" time="12.5"></testcase>');
    expect(xml).toContain(
      '<failure type="DEVIATION" message="DEVIATION, expected FAIL (as designed): last-item-naive because">stock-conservation: SKU-0049 oversold</failure>',
    );
    expect(xml).toContain(
      '<failure type="INCONCLUSIVE" message="INCONCLUSIVE, expected PASS: kafka-outage because">stock-conservation (inconclusive): SKU-0049 oversold</failure>',
    );
  });

  it('summarises the verdicts with a link to each report and the reasons of what went wrong', () => {
    const md = summaryMarkdown(
      [
        journal('relay-crash', 'pass', 'PASS'),
        journal('n-plus-one', 'fail', 'FAIL', true),
        journal('redis-down', 'pass', 'FAIL'),
      ],
      '/r',
    );
    expect(md).toContain('# The whole catalog: 2 of 3 as expected');
    expect(md).toContain(
      '| n-plus-one | FAIL (as designed) | FAIL (as designed) | yes | 12.5 s | [report](n-plus-one/report.html) |',
    );
    expect(md).toContain('| redis-down | PASS | FAIL | **no** |');
    expect(md).toContain('## redis-down: FAIL\n\nredis-down because');
  });
});
