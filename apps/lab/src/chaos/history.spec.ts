import { pipeline, redeliver } from './evidence.fixtures';
import { attemptOutcome, checkPipeline, checkStock, orderHistory } from './history';
import type { RequestRecord } from '@faultline/load';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

const inputOf = (p: ReturnType<typeof pipeline>) => ({
  ops: orderHistory(p.records),
  orders: p.orders,
  keys: p.keys,
  outbox: p.outbox,
  inbox: p.inbox,
  reservations: p.reservations,
  deliveries: p.deliveries,
  bus: p.bus,
});
const violations = (f: ReturnType<typeof checkPipeline>) =>
  f.stages.flatMap((s) =>
    (['lost', 'unexpected', 'duplicated'] as const).flatMap((k) => s[k].map((id) => `${k} ${s.stage} ${id}`)),
  );

describe('the history of the load', () => {
  it('classifies answers as the client knows them: done, refused, or in doubt', () => {
    expect([201, 200, 400, 422, 429, 0, 409, 500, 502, 503, 504].map(attemptOutcome)).toEqual([
      'ok',
      'ok',
      'failed',
      'failed',
      'failed',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
      'unknown',
    ]);
  });

  it('makes one operation per key: ok if any attempt was, else unknown if any was in doubt', () => {
    const r = (key: string, status: number, attempt: number, orderId?: string): RequestRecord => ({
      t: attempt * 100,
      route: 'POST /v1/orders',
      status,
      ms: 1,
      key,
      customer: 'c',
      attempt,
      ...(orderId ? { orderId } : {}),
    });
    const ops = orderHistory([r('k1', 0, 1), r('k1', 201, 2, A), r('k2', 0, 1), r('k2', 409, 2), r('k3', 422, 1)]);
    expect(ops.map((o) => [o.key, o.outcome, o.orderId])).toEqual([
      ['k1', 'ok', A],
      ['k2', 'unknown', undefined],
      ['k3', 'failed', undefined],
    ]);
  });
});

describe('the pipeline check', () => {
  it('finds nothing wrong in orders that went all the way through, and counts redeliveries apart', () => {
    const p = pipeline([{ id: A }, { id: B, status: 'REJECTED' }]);
    const f = checkPipeline({ ...inputOf(p), bus: redeliver(p.bus, A, 'OrderPlaced') });
    expect(violations(f)).toEqual([]);
    expect(f.stages.find((s) => s.stage === 'bus:placed')?.redelivered).toEqual([A]);
    expect(f.ops).toEqual({ invoked: 2, ok: 2, failed: 0, unknown: 0, recovered: 0 });
  });

  it('names an order lost at the stage where it stopped, and every stage after', () => {
    const p = pipeline([{ id: A }, { id: B }]);
    const f = checkPipeline({
      ...inputOf(p),
      bus: p.bus.filter((m) => !(m.key === B && m.type === 'OrderPlaced')),
      inbox: p.inbox.filter((i) => !p.outbox.some((o) => o.orderId === B && o.eventId === i.eventId)),
      reservations: p.reservations.filter((r) => r.orderId !== B),
    });
    expect(violations(f).filter((v) => v.startsWith('lost'))).toEqual([
      `lost bus:placed ${B}`,
      `lost inbox:inventory ${B}`,
      `lost reservations ${B}`,
      `lost inbox:orders ${B}`,
      `lost inbox:notifications ${B}`,
    ]);
    expect(f.traceOf[B]).toBe('0'.repeat(31) + '2');
  });

  it('counts a second effect as duplicated, and an order nobody acknowledged or doubted as unexpected', () => {
    const p = pipeline([{ id: A }, { id: B }]);
    const ops = orderHistory(p.records).filter((o) => o.orderId !== B);
    const f = checkPipeline({ ...inputOf(p), ops, deliveries: [...p.deliveries, p.deliveries[0]] });
    expect(violations(f)).toContain(`duplicated deliveries ${A}`);
    expect(violations(f)).toContain(`unexpected orders ${B}`);
  });

  it('recovers an order the client timed out on but that happened, and expects it downstream', () => {
    const p = pipeline([{ id: A }, { id: B, answer: 0 }]);
    const f = checkPipeline(inputOf(p));
    expect(f.ops).toMatchObject({ ok: 1, unknown: 1, recovered: 1 });
    expect(violations(f)).toEqual([]);
    expect(f.stages[0].expected).toBe(2);
  });

  it('names an order written without its lines as partial', () => {
    const p = pipeline([{ id: A }, { id: B }]);
    const f = checkPipeline({ ...inputOf(p), orders: p.orders.map((o) => (o.id === B ? { ...o, items: [] } : o)) });
    expect(f.partial).toEqual([B]);
  });

  it("ignores other orders' messages on the topics (a poison, another run)", () => {
    const p = pipeline([{ id: A }]);
    const stranger = {
      ...p.bus[0],
      key: '00000000-0000-4000-8000-0000000000ee',
      eventId: '00000000-0000-4000-8000-0000000000ef',
    };
    expect(violations(checkPipeline({ ...inputOf(p), bus: [...p.bus, stranger] }))).toEqual([]);
  });

  it('leaves the Kafka stages out when the topics were not read, and the stages a variant has not', () => {
    const p = pipeline([{ id: A }]);
    const f = checkPipeline({ ...inputOf(p), bus: undefined, outbox: [] }, ['orders', 'bus:placed', 'deliveries']);
    expect(f.stages.map((s) => s.stage)).toEqual(['orders', 'deliveries']);
  });
});

describe('the stock check', () => {
  it('holds when start − confirmed = end and the reservations agree', () => {
    const p = pipeline([{ id: A, quantity: 2 }, { id: B, status: 'REJECTED' }, { id: C }], { 'SKU-0001': 5 });
    const f = checkStock(p.stock, p.orders, p.reservations);
    expect(f).toMatchObject({ notConserved: [], oversold: [], negative: [], disagreeing: [] });
    expect(f.skus).toEqual([{ sku: 'SKU-0001', start: 5, end: 2, confirmed: 3, reserved: 3, confirmedOrders: [A, C] }]);
  });

  it('finds the oversell a lost update leaves behind, though stock never went below 0', () => {
    const p = pipeline([{ id: A }, { id: B }, { id: C }], { 'SKU-0001': 1 });
    const f = checkStock({ start: { 'SKU-0001': 1 }, end: { 'SKU-0001': 0 } }, p.orders, p.reservations);
    expect(f.negative).toEqual([]);
    expect(f.oversold.map((s) => s.sku)).toEqual(['SKU-0001']);
    expect(f.notConserved.map((s) => [s.start, s.confirmed, s.end])).toEqual([[1, 3, 0]]);
  });

  it('finds a CONFIRMED order without its reservation, and a decrement applied twice', () => {
    const p = pipeline([{ id: A }, { id: B }], { 'SKU-0001': 5 });
    expect(
      checkStock(
        p.stock,
        p.orders,
        p.reservations.filter((r) => r.orderId !== B),
      ).disagreeing,
    ).toEqual([B]);
    expect(
      checkStock({ start: p.stock.start, end: { 'SKU-0001': 2 } }, p.orders, p.reservations).notConserved,
    ).toHaveLength(1);
  });
});
