import type { Experiment } from '../experiment-schema';
import { fixtureEvidence, pipeline } from '../evidence.fixtures';
import type { RunEvidence } from '../evidence';
import type { RunJournal } from '../journal';
import { findRepoRoot } from '../../layout/lab-layout';
import { loadCatalog } from '../catalog';
import { chaosObjects } from './kind-chaos-plan';
import { evaluateKind, KIND_EVIDENCE, KindCheckContext } from './kind-checks';
import { decide, kindRefusal } from './kind-runner';
import type { Sample } from '../prometheus-queries';

const ctx = (
  answers: Record<string, number | undefined>,
  asked: string[] = [],
  evidence: Partial<RunEvidence> = {},
): KindCheckContext => ({
  evidence: {
    ...fixtureEvidence({
      records: [
        { t: 100, route: 'GET /v1/recommendations', status: 200, ms: 12 },
        { t: 200, route: 'GET /v1/recommendations', status: 503, ms: 8 },
      ],
      window: { injectedAt: 50, healedAt: 5000 },
    }),
    loadStartedAt: 0,
    ...evidence,
  },
  now: () => 30_000,
  prometheus: async (promql: string): Promise<Sample[]> => {
    asked.push(promql);
    const key = Object.keys(answers).find((k) => promql.includes(k));
    const value = key === undefined ? undefined : answers[key];
    return value === undefined ? [] : [{ metric: {}, value }];
  },
});

describe('verdict checks on kind', () => {
  it('breaker-opened reads the gateway’s breaker from Prometheus over the whole run: holds, fails, or has no series', async () => {
    const asked: string[] = [];
    const [opened] = await evaluateKind(
      ctx({ circuit_breaker_transitions_total: 2, circuit_breaker_state: 2 }, asked),
      [{ check: 'breaker-opened', dependency: 'recommendations' }],
    );
    expect(opened).toMatchObject({ check: 'breaker-opened', ok: true });
    expect(asked).toEqual([
      'sum(increase(circuit_breaker_transitions_total{dependency="recommendations",to="open"}[60s]))',
      'max(max_over_time(circuit_breaker_state{dependency="recommendations"}[60s]))',
    ]);
    const [closed] = await evaluateKind(ctx({ circuit_breaker_transitions_total: 0, circuit_breaker_state: 0 }), [
      { check: 'breaker-opened', dependency: 'recommendations' },
    ]);
    expect(closed).toMatchObject({ ok: false, damage: ['the breaker to recommendations never opened during the run'] });
    expect(closed.inconclusive).toBeUndefined();
    const [unknown] = await evaluateKind(ctx({}), [{ check: 'breaker-opened', dependency: 'recommendations' }]);
    expect(unknown).toMatchObject({ ok: false, inconclusive: true });
  });

  it('the client-side checks stay on the load’s records, with the gateway’s own view from Prometheus beside them', async () => {
    const [ratio] = await evaluateKind(ctx({ http_server_requests_total: 0.5 }), [
      { check: 'client-error-ratio', route: 'GET /v1/recommendations', max: 0 },
    ]);
    expect(ratio.ok).toBe(false);
    expect(ratio.detail).toContain('1 of 2 GET /v1/recommendations sent during the fault answered 5xx');
    expect(ratio.detail).toContain("gateway's own 5xx ratio (Prometheus, last 60s): 0.5000");
  });

  it('the data checks are the local ones, on the same evidence read through kubectl: they hold and fail alike', async () => {
    const healthy = pipeline([{ id: 'a' }, { id: 'b', status: 'REJECTED' }], { 'SKU-0001': 3 });
    const [held] = await evaluateKind(ctx({}, [], fixtureEvidence(healthy)), [{ check: 'stock-conservation' }]);
    expect(held).toMatchObject({ ok: true });
    const [oversold] = await evaluateKind(
      ctx({}, [], fixtureEvidence({ ...healthy, stock: { start: { 'SKU-0001': 3 }, end: { 'SKU-0001': 3 } } })),
      [{ check: 'stock-conservation' }],
    );
    expect(oversold).toMatchObject({ ok: false });
  });

  it('the topic, DLQ and trace checks are the local ones too: inconclusive only when the read itself found nothing', async () => {
    const [trace] = await evaluateKind(ctx({}), [{ check: 'trace-continues', services: ['gateway', 'orders'] }]);
    expect(trace).toMatchObject({ ok: false, inconclusive: true });
    const [redelivery] = await evaluateKind(ctx({}), [{ check: 'redeliveries-absorbed' }]);
    expect(redelivery).toMatchObject({ ok: false, inconclusive: true });
    // The DLQ as the console consumer read it (an empty topic): dlq-empty holds, and a dead letter of the run fails it.
    const orders = async () => [{ id: 'a', status: 'CONFIRMED' as const, customer: 'c', items: [] }];
    const [empty] = await evaluateKind(ctx({}, [], { orders, dlq: async () => [] }), [{ check: 'dlq-empty' }]);
    expect(empty).toMatchObject({ ok: true });
    const letter = {
      id: 'orders.events.dlq:0:0',
      dlqTopic: 'orders.events.dlq',
      originalTopic: 'orders.events',
      eventId: 'e',
      type: 'OrderPlaced',
      error: { message: 'timeout' },
      key: 'a',
      value: null,
      headers: {},
      timestamp: '',
    };
    const [parked] = await evaluateKind(ctx({}, [], { orders, dlq: async () => [letter] }), [{ check: 'dlq-empty' }]);
    expect(parked).toMatchObject({ ok: false });
    expect(parked.inconclusive).toBeUndefined();
  });

  it('SQL checks that cannot reach Postgres are inconclusive, never green', async () => {
    const [final] = await evaluateKind(
      ctx({}, [], { orders: () => Promise.reject(new Error('no SQL in this test')) }),
      [{ check: 'all-orders-final' }],
    );
    expect(final).toMatchObject({ ok: false, inconclusive: true, detail: 'could not evaluate: no SQL in this test' });
  });
});

describe('the kind verdict', () => {
  const journal = (
    fired: boolean,
    checks: RunJournal['checks'],
    expected: 'pass' | 'fail' = 'pass',
    mustFail?: string[],
  ) =>
    ({
      experiment: { expected, mustFail },
      fault: { fired, evidence: [], driver: 'chaos-mesh', window: {} },
      checks,
      verdict: 'ABORTED',
      reason: '',
    }) as unknown as RunJournal;
  const ok = [{ check: 'all-orders-final', ok: true, detail: '' }];

  it('is never PASS when the fault was not proven injected or not proven healed', () => {
    const notFired = journal(false, ok);
    decide(notFired, true);
    expect(notFired.verdict).toBe('INCONCLUSIVE');
    const notHealed = journal(true, ok);
    decide(notHealed, false);
    expect(notHealed).toMatchObject({ verdict: 'INCONCLUSIVE', reason: expect.stringContaining('AllRecovered') });
  });

  it('follows the one rule: PASS, FAIL, INCONCLUSIVE, FAIL as designed, DEVIATION', () => {
    const pass = journal(true, ok);
    decide(pass, true);
    expect(pass.verdict).toBe('PASS');
    const fail = journal(true, [...ok, { check: 'stock-conservation', ok: false, detail: '' }]);
    decide(fail, true);
    expect(fail).toMatchObject({ verdict: 'FAIL', reason: 'failed: stock-conservation' });
    const unknown = journal(true, [...ok, { check: 'queries-per-request', ok: false, inconclusive: true, detail: '' }]);
    decide(unknown, true);
    expect(unknown.verdict).toBe('INCONCLUSIVE');
    const designed = journal(true, [{ check: 'all-orders-final', ok: false, detail: '' }], 'fail', [
      'all-orders-final',
    ]);
    decide(designed, true);
    expect(designed).toMatchObject({ verdict: 'FAIL', asDesigned: true });
    const deviation = journal(true, ok, 'fail', ['all-orders-final']);
    decide(deviation, true);
    expect(deviation.verdict).toBe('DEVIATION');
  });
});

describe('the catalog on kind', () => {
  const root = findRepoRoot();

  it('every check of every experiment the kind runner runs has its evidence on kind; the others are refused, saying why', () => {
    for (const { dir, experiment } of loadCatalog(root)) {
      const cannot = experiment.verdict.filter((v) => KIND_EVIDENCE[v.check] === null).map((v) => v.check);
      const runs = kindRefusal(experiment, chaosObjects(dir, experiment)) === undefined;
      // An experiment that runs on kind judges all its checks there; one that cannot is not run (the reason is its
      // `without`).
      expect({
        id: experiment.id,
        runs,
        cannot,
        refusedWithReason: !runs && Boolean(experiment.fault.kind.without),
      }).toEqual({ id: experiment.id, runs, cannot: runs ? [] : cannot, refusedWithReason: !runs });
    }
  });

  it('runs every experiment of the catalog; a fault with no Chaos Mesh object and no runner of its own is refused, saying why', () => {
    const catalog = loadCatalog(root);
    expect(
      catalog
        .filter(({ dir, experiment }) => kindRefusal(experiment, chaosObjects(dir, experiment)) !== undefined)
        .map((e) => e.experiment.id),
    ).toEqual([]);
    const relay = catalog.find((e) => e.experiment.id === 'relay-crash')?.experiment as Experiment;
    const without = {
      ...relay,
      fault: { ...relay.fault, kind: { manifests: [], without: 'no Chaos Mesh fault kills a process this way' } },
    } as Experiment;
    expect(kindRefusal(without, [])).toBe(
      'no Chaos Mesh object injects this fault on kind: no Chaos Mesh fault kills a process this way',
    );
  });
});
