// EventConsumer, the inbox and the DLQ tooling against the real test lab: retries with backoff, dead-lettering after
// maxAttempts, poison messages straight to the DLQ, redelivery absorbed by the inbox (effect once), list/replay of
// the DLQ, and a consumer that survives a broker outage (the test lab's broker frozen with SIGSTOP: requests hang and
// time out, harsher than a refused connection; this lib may not import the lab's driver, which would be a cycle).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import pino from 'pino';
import { createEvent, EVENT_HEADERS, type EventEnvelope } from '@faultline/contracts';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import {
  buildEventMessage,
  createEventConsumer,
  createEventProducer,
  createKafka,
  appliedUntilMigrationSql,
  inboxMigrationSql,
  listDlq,
  readAppliedUntil,
  recordInInbox,
  replayDlq,
  saveAppliedMarks,
  type EventConsumer,
  type EventProducer,
} from '../src';

const stateDir = process.env['FAULTLINE_TEST_STATE_DIR'];
if (!stateDir) throw new Error('FAULTLINE_TEST_STATE_DIR is not set: run with --selectProjects integration');
const pgUrl = process.env['FAULTLINE_TEST_PG_URL'] as string;
const brokers = (process.env['FAULTLINE_TEST_KAFKA_BROKERS'] as string).split(',');
const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const topic = `it.consumer.${id}`;
const dlq = `${topic}.dlq`;
const database = `inbox_test_${id}`;
const CONSUMER = 'it-consumer';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const placed = (orderId = randomUUID()) =>
  createEvent('OrderPlaced', {
    orderId,
    customerId: `it-${id}`,
    items: [{ sku: 'SKU-0001', quantity: 1 }],
    placedAt: new Date().toISOString(),
  });

describe('EventConsumer, inbox and DLQ tooling (real Kafka and Postgres)', () => {
  const kafka = createKafka({ clientId: `it-${id}`, brokers });
  const admin = kafka.admin();
  let scratch: ScratchDatabase | undefined;
  let db: Client;
  let producer: EventProducer;
  let consumer: EventConsumer;
  const registry = new Registry();
  /** orderId → how many more times the handler fails for it (Infinity: always). */
  const failures = new Map<string, number>();
  /** orderId → how many more times the handler fails for it as a database that is down would (transient). */
  const outages = new Map<string, number>();
  const attempts = new Map<string, number[]>();
  const outcomes: string[] = [];

  const send = async (event: EventEnvelope, override: { value?: string; headers?: Record<string, string> } = {}) => {
    const message = buildEventMessage(event);
    await producer.send([
      { topic, key: message.key, value: override.value ?? message.value, headers: override.headers ?? message.headers },
    ]);
  };
  const effects = async (orderId: string) =>
    Number((await db.query('SELECT count(*) AS n FROM effects WHERE order_id = $1', [orderId])).rows[0].n);
  const metric = async (name: string, labels: Record<string, string>) => {
    const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
      .reduce((sum, v) => sum + v.value, 0);
  };

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 1 },
        { topic: dlq, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    scratch = await createScratchDatabase((name) => `${pgUrl}/${name}`, database);
    db = new Client({ connectionString: scratch.url });
    await db.connect();
    for (const sql of inboxMigrationSql().up) await db.query(sql);
    for (const sql of appliedUntilMigrationSql().up) await db.query(sql);
    // No unique constraint on purpose: only the inbox stands between a redelivery and a second effect.
    await db.query('CREATE TABLE effects (id serial PRIMARY KEY, order_id text NOT NULL, event_id uuid NOT NULL)');
    producer = createEventProducer(kafka);
    await producer.connect();

    const handlerDb = new Client({ connectionString: `${pgUrl}/${database}` });
    await handlerDb.connect();
    consumer = createEventConsumer({
      brokers,
      clientId: `it-${id}`,
      groupId: `it-consumer-${id}`,
      name: CONSUMER,
      topics: [topic],
      eventTypes: ['OrderPlaced', 'OrderConfirmed'],
      maxAttempts: 3,
      backoff: { baseMs: 20, capMs: 100 },
      logger: pino({ level: 'silent' }),
      registry,
      appliedUntil: { save: (marks) => saveAppliedMarks(db, CONSUMER, marks), intervalMs: 50 },
      handle: async (event, context) => {
        const orderId = event.payload.orderId;
        attempts.set(orderId, [...(attempts.get(orderId) ?? []), context.attempt]);
        const down = outages.get(orderId) ?? 0;
        if (down > 0) {
          outages.set(orderId, down - 1);
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        const left = failures.get(orderId) ?? 0;
        if (left > 0) {
          failures.set(orderId, left - 1);
          throw new Error(`injected failure for ${orderId}`);
        }
        await handlerDb.query('BEGIN');
        try {
          if (!(await recordInInbox(handlerDb, CONSUMER, context.headers.eventId))) {
            await handlerDb.query('ROLLBACK');
            outcomes.push(`duplicate:${orderId}`);
            return 'duplicate';
          }
          await handlerDb.query('INSERT INTO effects (order_id, event_id) VALUES ($1, $2)', [
            orderId,
            context.headers.eventId,
          ]);
          await handlerDb.query('COMMIT');
        } catch (error) {
          await handlerDb.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
        outcomes.push(`processed:${orderId}`);
        return 'processed';
      },
    });
    (globalThis as { __handlerDb?: Client }).__handlerDb = handlerDb;
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.disconnect().catch(() => undefined);
    await (globalThis as { __handlerDb?: Client }).__handlerDb?.end().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await scratch?.drop();
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('commits what it handled, the offsets of many messages in few requests', async () => {
    const group = `it-consumer-${id}`;
    const committed = async () =>
      Number((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions[0]?.offset ?? -1);
    const end = async () => Number((await admin.fetchTopicOffsets(topic))[0].high);
    const commitsBefore = await metric('consumer_offset_commits_total', { consumer: CONSUMER });
    const burst = Array.from({ length: 40 }, () => placed());
    await producer.send(burst.map((e) => ({ ...buildEventMessage(e), topic })));
    await eventually('the burst handled', () =>
      burst.every((e) => outcomes.includes(`processed:${e.payload.orderId}`)) ? true : undefined,
    );
    const high = await end();
    await eventually('the burst committed', async () => ((await committed()) === high ? true : undefined));
    // Coalesced: the handled offsets of one commit interval go in one request (one each would be 40).
    expect((await metric('consumer_offset_commits_total', { consumer: CONSUMER })) - commitsBefore).toBeLessThanOrEqual(
      8,
    );
    expect(await committed()).toBe(high);
  });

  it('commits on a graceful stop what it handled since its last commit (the next member does not get it again)', async () => {
    const group = `it-stop-${id}`;
    const own = new Registry();
    const handled = async () =>
      ((await own.getSingleMetric('consumer_events_total')?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    // An interval no test waits for: only the stop's own commit can move the group's offset.
    const second = createEventConsumer({
      brokers,
      clientId: `it-stop-${id}`,
      groupId: group,
      topics: [topic],
      logger: pino({ level: 'silent' }),
      registry: own,
      commitIntervalMs: 600_000,
      handle: async () => 'processed',
    });
    await second.start();
    try {
      const high = Number((await admin.fetchTopicOffsets(topic))[0].high);
      expect(high).toBeGreaterThan(0);
      await eventually('the topic read by the new group', async () => ((await handled()) >= high ? true : undefined));
      const before = Number(
        (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions[0]?.offset ?? -1,
      );
      expect(before).toBe(-1);
    } finally {
      await second.stop();
    }
    expect(Number((await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions[0]?.offset)).toBe(
      Number((await admin.fetchTopicOffsets(topic))[0].high),
    );
  });

  it('retries a failing handler with backoff and processes the event once', async () => {
    const event = placed();
    failures.set(event.payload.orderId, 2);
    await send(event);
    await eventually('processed', () => (outcomes.includes(`processed:${event.payload.orderId}`) ? true : undefined));
    expect(attempts.get(event.payload.orderId)).toEqual([1, 2, 3]);
    expect(await effects(event.payload.orderId)).toBe(1);
    expect(
      await metric('consumer_events_total', { consumer: CONSUMER, outcome: 'retried', type: 'OrderPlaced' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('keeps retrying a transient failure (its database down) beyond maxAttempts, and never dead-letters it', async () => {
    const event = placed();
    outages.set(event.payload.orderId, 6);
    await send(event);
    await eventually('processed', () => (outcomes.includes(`processed:${event.payload.orderId}`) ? true : undefined));
    expect(attempts.get(event.payload.orderId)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await effects(event.payload.orderId)).toBe(1);
    expect((await listDlq(brokers, [dlq])).some((e) => e.eventId === event.metadata.eventId)).toBe(false);
  });

  it('dead-letters a message whose handler always fails, with the error, and moves on', async () => {
    const poison = placed();
    const next = placed();
    failures.set(poison.payload.orderId, Number.POSITIVE_INFINITY);
    await send(poison);
    await send(next);
    await eventually('the next message processed', () =>
      outcomes.includes(`processed:${next.payload.orderId}`) ? true : undefined,
    );
    expect(attempts.get(poison.payload.orderId)).toEqual([1, 2, 3]);
    expect(await effects(poison.payload.orderId)).toBe(0);
    const entries = await listDlq(brokers, [dlq]);
    const entry = entries.find((e) => e.eventId === poison.metadata.eventId);
    expect(entry).toMatchObject({
      originalTopic: topic,
      type: 'OrderPlaced',
      key: poison.payload.orderId,
      value: JSON.stringify(poison.payload),
    });
    expect(entry?.error).toMatchObject({ kind: 'handler', attempts: 3, topic, partition: 0, consumer: CONSUMER });
    expect(entry?.error.message).toContain('injected failure');
    expect(entry?.headers['traceparent']).toBeUndefined();
    expect(await metric('consumer_dlq_messages_total', { topic })).toBeGreaterThanOrEqual(1);
  });

  it('sends malformed messages (bad JSON, unknown type, missing headers, bad payload) to the DLQ without retrying', async () => {
    const base = placed();
    const headers = buildEventMessage(base).headers;
    const cases: Array<{ label: string; value: string; headers: Record<string, string> }> = [
      { label: 'bad-json', value: '{not json', headers: { ...headers, [EVENT_HEADERS.eventId]: randomUUID() } },
      {
        label: 'unknown-type',
        value: JSON.stringify(base.payload),
        headers: { ...headers, [EVENT_HEADERS.eventId]: randomUUID(), [EVENT_HEADERS.eventType]: 'OrderShipped' },
      },
      {
        label: 'missing-headers',
        value: JSON.stringify(base.payload),
        headers: { [EVENT_HEADERS.eventType]: 'OrderPlaced' },
      },
      {
        label: 'bad-payload',
        value: JSON.stringify({ ...base.payload, items: [] }),
        headers: { ...headers, [EVENT_HEADERS.eventId]: randomUUID() },
      },
    ];
    for (const c of cases) await producer.send([{ topic, key: c.label, value: c.value, headers: c.headers }]);
    const entries = await eventually('4 poison messages in the DLQ', async () => {
      const found = (await listDlq(brokers, [dlq])).filter((e) => cases.some((c) => c.label === e.key));
      return found.length === cases.length ? found : undefined;
    });
    const byKey = Object.fromEntries(entries.map((e) => [e.key, e.error]));
    for (const c of cases) expect(byKey[c.label]).toMatchObject({ kind: 'validation', attempts: 0 });
    expect(byKey['bad-json'].fields).toEqual(['payload']);
    expect(byKey['unknown-type'].fields).toEqual(['type']);
    expect(byKey['missing-headers'].fields).toEqual(['headers.event-id', 'headers.event-version']);
    expect(byKey['bad-payload'].fields).toEqual(['payload.items']);
    expect(attempts.get(base.payload.orderId)).toBeUndefined(); // the handler never saw them
  });

  it('ignores event types it does not handle', async () => {
    const other = createEvent('OrderRejected', {
      orderId: randomUUID(),
      customerId: 'x',
      reason: 'r',
      rejectedAt: new Date().toISOString(),
    });
    await send(other);
    await eventually('ignored', async () =>
      (await metric('consumer_events_total', { outcome: 'ignored', type: 'OrderRejected' })) === 1 ? true : undefined,
    );
    expect(attempts.get(other.payload.orderId)).toBeUndefined();
  });

  it('saves how current it is: per partition, the committed-at of the last message handled, only ever forward', async () => {
    const at = (ms: number) => ({ ...buildEventMessage(placed()).headers, [EVENT_HEADERS.committedAt]: String(ms) });
    const until = () => readAppliedUntil(db, CONSUMER, topic);
    const base = Date.now() - 60_000;
    await send(placed(), { headers: at(base + 1000) });
    await send(placed(), { headers: at(base + 3000) });
    expect(
      (
        await eventually('the mark at the second commit', async () =>
          (await until())?.getTime() === base + 3000 ? until() : undefined,
        )
      )?.getTime(),
    ).toBe(base + 3000);
    // A redelivery of an older event (a replay, a relay restarting from its slot) does not move the mark back.
    await saveAppliedMarks(db, CONSUMER, [{ topic, partition: 0, partitions: 1, until: new Date(base + 2000) }]);
    expect((await until())?.getTime()).toBe(base + 3000);
    // A message without the header (not from the relay) leaves the mark as it is; the next relayed one moves it.
    await send(placed(), {
      headers: Object.fromEntries(Object.entries(at(0)).filter(([k]) => k !== EVENT_HEADERS.committedAt)),
    });
    await send(placed(), { headers: at(base + 4000) });
    expect(
      (
        await eventually('the mark at the last commit', async () =>
          (await until())?.getTime() === base + 4000 ? until() : undefined,
        )
      )?.getTime(),
    ).toBe(base + 4000);
    // A topic of two partitions with a mark on one only: nothing can be said for it yet.
    await saveAppliedMarks(db, CONSUMER, [
      { topic: `${topic}.two`, partition: 0, partitions: 2, until: new Date(base) },
    ]);
    expect(await readAppliedUntil(db, CONSUMER, `${topic}.two`)).toBeUndefined();
    await saveAppliedMarks(db, CONSUMER, [
      { topic: `${topic}.two`, partition: 1, partitions: 2, until: new Date(base + 500) },
    ]);
    expect((await readAppliedUntil(db, CONSUMER, `${topic}.two`))?.getTime()).toBe(base);
  });

  it('records a redelivered event id as a duplicate: the effect happens once', async () => {
    const event = placed();
    await send(event);
    await send(event);
    await eventually('duplicate', () => (outcomes.includes(`duplicate:${event.payload.orderId}`) ? true : undefined));
    expect(await effects(event.payload.orderId)).toBe(1);
    expect(await metric('inbox_duplicates_total', { consumer: CONSUMER })).toBe(1);
    expect(await metric('consumer_events_total', { outcome: 'duplicate' })).toBe(1);
  });

  it('replays a dead-lettered message with a corrected payload; the consumer processes it', async () => {
    const event = placed();
    await send(event, { value: JSON.stringify({ ...event.payload, items: [{ sku: 'SKU-0001', quantity: 0 }] }) });
    const entry = await eventually('the broken message in the DLQ', async () =>
      (await listDlq(brokers, [dlq])).find((e) => e.eventId === event.metadata.eventId),
    );
    expect(entry.error.fields).toEqual(['payload.items.0.quantity']);
    const replayed = await replayDlq(brokers, entry.id, { payload: event.payload });
    expect(replayed).toMatchObject({ topic, key: event.payload.orderId, value: JSON.stringify(event.payload) });
    expect(replayed.headers[EVENT_HEADERS.dlqError]).toBeUndefined();
    expect(replayed.headers[EVENT_HEADERS.eventId]).toBe(event.metadata.eventId);
    await eventually('the replayed event processed', () =>
      outcomes.includes(`processed:${event.payload.orderId}`) ? true : undefined,
    );
    expect(await effects(event.payload.orderId)).toBe(1);
    await expect(replayDlq(brokers, `${dlq}:0:999999`)).rejects.toThrow(/no message/);
  });

  it('survives a broker outage (broker frozen 20 s) and goes on consuming', async () => {
    const { pid } = JSON.parse(readFileSync(join(stateDir, 'run', 'kafka.pid'), 'utf8')) as { pid: number };
    const before = placed();
    await send(before);
    await eventually('consumed before the outage', () =>
      outcomes.includes(`processed:${before.payload.orderId}`) ? true : undefined,
    );
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(20000);
    } finally {
      // The broker is shared with other engineers' tests: always thaw it.
      process.kill(pid, 'SIGCONT');
    }
    const event = placed();
    await eventually(
      'the producer to reach the broker again',
      async () =>
        send(event)
          .then(() => true)
          .catch(() => undefined),
      90000,
    );
    await eventually(
      'consumed after the outage',
      () => (outcomes.includes(`processed:${event.payload.orderId}`) ? true : undefined),
      120000,
    );
    expect(await effects(event.payload.orderId)).toBe(1);
  }, 240000);
});
