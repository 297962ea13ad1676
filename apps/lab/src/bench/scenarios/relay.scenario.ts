// The CDC relay (outbox-relay-orders) vs a raw kafkajs producer on the same broker.
//
// Lag: raw order transactions committed into the lab's `orders` database at the fixed rate; the relay's own
// commit → Kafka-ack histogram between two scrapes (good to its buckets: 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50 ms …).
// Baseline: single messages produced at the same rate during the same seconds, send → ack.
// Throughput: the relay frozen (SIGSTOP) while a backlog of orders is committed, then thawed; events/s until Kafka
// holds every one of them (the end offsets of orders.events grew by the backlog: the relay publishes in commit order,
// so nothing it writes after the backlog can be counted before all of it). Baseline: messages of the same size
// produced in batches as large as the relay's (500), one batch in flight, acks=all; five times as many as the backlog
// (settings.rawProducerMessages), since a rate over a fraction of a second is mostly noise, half right before the
// drain and half right after it. Meanwhile the consumers of orders.events are frozen: on 2 cores, three services
// working through the backlog as it arrives took the CPU from the relay in some runs and not others (its batches
// came 80 to 700 ms apart), so the drain rate measured the saga as much as the relay.
// The backlog orders are real orders: the saga ends them before the next run starts.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { EVENT_HEADERS, ORDERS_EVENTS_TOPIC } from '@faultline/contracts';
import { createKafka } from '@faultline/messaging';
import { replicationSlotName } from '@faultline/outbox';
import { kafkaBrokers } from '../../infra/infra';
import { waitFor } from '../../process/wait-for';
import { closedLoop, openLoop } from '../bench-load';
import { histogramBuckets, histogramQuantile, type BenchSample } from '../bench-stats';
import { awaitFinal, orderItems, rawOrders } from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

const RAW_TOPIC = 'bench.raw-producer';
/** The relay's RELAY_MAX_BATCH_EVENTS default: the raw producer batches the same way. */
const RELAY_BATCH = 500;
/** The services consuming orders.events. */
const EVENT_CONSUMERS = ['inventory', 'notifications', 'recommendations'];

export function relayScenario({ lab, settings, progress, settle }: ScenarioContext): Scenario {
  const sample = sampleOf('relay');
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  /** Events in orders.events: the sum of its partitions' end offsets. */
  const published = async () => (await admin.fetchTopicOffsets(ORDERS_EVENTS_TOPIC)).reduce((sum, p) => sum + Number(p.high), 0);
  const relayMetrics = async () => (await fetch(`http://127.0.0.1:${lab.layout.ports.relayOrdersHttp}/metrics`)).text();
  const finalIn = (ids: string[]) => awaitFinal((text, params) => lab.sql('orders', text, params), ids);
  // A message shaped like the relay's: order id key, OrderPlaced-sized payload, the event headers.
  const message = (i: number) => {
    const orderId = randomUUID();
    return {
      key: orderId,
      value: JSON.stringify({ orderId, customerId: `bench-raw-${(i % 200) + 1}`, items: orderItems(i), placedAt: new Date().toISOString() }),
      headers: { [EVENT_HEADERS.eventId]: randomUUID(), [EVENT_HEADERS.eventType]: 'OrderPlaced', [EVENT_HEADERS.eventVersion]: '1', [EVENT_HEADERS.traceparent]: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01` },
    };
  };

  /** Sends `count` messages in batches as large as the relay's, one batch in flight; resolves the milliseconds taken. */
  const sendBatches = async (count: number) => {
    const started = performance.now();
    for (let sent = 0; sent < count; sent += RELAY_BATCH) {
      await producer.send({ topic: RAW_TOPIC, acks: -1, messages: Array.from({ length: Math.min(RELAY_BATCH, count - sent) }, (_, i) => message(sent + i)) });
    }
    return performance.now() - started;
  };

  return {
    area: 'relay',
    async setup() {
      kafka = createKafka({ clientId: 'bench-raw-producer', brokers: kafkaBrokers(lab.layout), connectionTimeoutMs: 3000 });
      admin = kafka.admin();
      await admin.connect();
      if (!(await admin.listTopics()).includes(RAW_TOPIC)) await admin.createTopics({ waitForLeaders: true, topics: [{ topic: RAW_TOPIC, numPartitions: 3, replicationFactor: 1 }] });
      // The relay's producer settings (libs/messaging createEventProducer): idempotent, one request in flight.
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
    },
    async run(): Promise<BenchSample[]> {
      const { fixedMs, rate, concurrency, relayBacklog, rawProducerMessages } = settings;
      const orders = rawOrders(lab.layout, 'orders', concurrency);
      try {
        progress.step('relay', `lag: raw orders committed at ${rate}/s and, at the same time, raw single sends at ${rate}/s`);
        const before = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const fixedIds: string[] = [];
        // Side by side in the same seconds: whatever the machine and the broker do then, both sides see it.
        const [, singles] = await Promise.all([
          openLoop({ rate, durationMs: fixedMs }, async (i) => fixedIds.push(await orders.place(i, 'bench-relay'))),
          openLoop({ rate, durationMs: fixedMs }, (i) => producer.send({ topic: RAW_TOPIC, acks: -1, messages: [message(i)] })),
        ]);
        const slot = replicationSlotName('orders');
        await waitForSlot(lab, slot, await currentLsn(lab));
        const after = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const lag = { p50: histogramQuantile(before, after, 0.5) * 1000, p99: histogramQuantile(before, after, 0.99) * 1000 };
        await finalIn(fixedIds);
        await settle();

        progress.step('relay', `throughput: ${relayBacklog} events behind a frozen relay, drained between two halves of ${rawProducerMessages} raw sends, the event consumers frozen`);
        const thawRelay = await lab.freeze(['outbox-relay-orders']);
        const backlogIds: string[] = [];
        try {
          await closedLoop({ limit: relayBacklog, workers: concurrency }, async (i) => backlogIds.push(await orders.place(i, 'bench-relay')));
        } catch (error) {
          thawRelay();
          throw error;
        }
        // The consumers of orders.events would start on the backlog as it arrives and take the CPU from the relay
        // (2 cores): this measures the relay, so they wait, frozen for a few seconds (well inside their 10 s session).
        const thawConsumers = await lab.freeze(EVENT_CONSUMERS);
        let drained: number;
        let rawRate: number;
        try {
          const rawHalf = Math.round(rawProducerMessages / 2);
          const rawBefore = await sendBatches(rawHalf);
          const backlogStart = await published();
          thawRelay();
          const thawedAt = performance.now();
          await waitFor(async () => (await published()) >= backlogStart + backlogIds.length, {
            description: `the ${backlogIds.length} backlog events in ${ORDERS_EVENTS_TOPIC}`,
            timeoutMs: 120_000,
            intervalMs: 10,
          });
          drained = (backlogIds.length * 1000) / (performance.now() - thawedAt);
          const rawAfter = await sendBatches(rawProducerMessages - rawHalf);
          // Both halves bracket the drain: the baseline is the rate over both.
          rawRate = (rawProducerMessages * 1000) / (rawBefore + rawAfter);
        } finally {
          thawRelay();
          thawConsumers();
        }
        await finalIn(backlogIds);
        return [
          sample('throughput', 'relay drain rate (CDC → Kafka ack)', 'events/s', drained, 'raw kafkajs producer, batches of 500', rawRate),
          sample('lag-p50', `relay lag p50 (commit → Kafka ack) at ${rate}/s`, 'ms', lag.p50, `raw send → ack p50 at ${rate}/s`, singles.p50),
          sample('lag-p99', `relay lag p99 (commit → Kafka ack) at ${rate}/s`, 'ms', lag.p99, `raw send → ack p99 at ${rate}/s`, singles.p99),
        ];
      } finally {
        await orders.end();
      }
    },
    async teardown() {
      await producer?.disconnect();
      await admin?.disconnect();
    },
  };
}

async function currentLsn(lab: ScenarioContext['lab']): Promise<string> {
  return (await lab.sql<{ lsn: string }>('orders', 'SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn;
}

/** Awaits the relay's slot confirming `lsn`: everything committed before it is in Kafka. */
async function waitForSlot(lab: ScenarioContext['lab'], slot: string, lsn: string): Promise<void> {
  await waitFor(
    async () => (await lab.sql<{ ok: boolean }>('orders', 'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]))[0]?.ok,
    { description: `replication slot ${slot} to confirm ${lsn}`, timeoutMs: 120_000, intervalMs: 50 },
  );
}
