// The CDC relay (outbox-relay-orders) vs a raw kafkajs producer on the same broker.
//
// Lag: raw order transactions committed into the lab's `orders` database at the fixed rate; the relay's own
// commit → Kafka-ack histogram between two scrapes (good to its buckets: 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10 ms
// …; timed in microseconds, see apps/outbox-relay/src/relay/wall-clock.ts). Baseline: single messages produced at the
// same rate during the same seconds, send → ack. Throughput: a second outbox-relay-orders, the same build and settings,
// streaming from `bench_relay` (a schema copy of the orders database, publication included, with its own slot) into
// `bench.relay-drain`, a topic no service reads. Frozen (SIGSTOP) while a backlog of real order transactions is
// committed there, then thawed: events/s until Kafka holds every one of them (the topic's end offsets grew by the
// backlog). Baseline: messages of the same size produced in batches as large as the relay's (500), one batch in flight,
// acks=all, half right before the drain and half right after it. Why a second relay: draining the lab's own relay fed
// the saga, and on 2 cores the three consumers of orders.events working through the backlog took the CPU from the relay
// in some runs and not others (its batches came 80 to 700 ms apart); with them frozen, the 4,000 events the saga could
// afford per run drained in 0.2-0.5 s, too short to time. No consumer reads this backlog, so it can be long
// (settings.relayBacklog) for free.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { EVENT_HEADERS } from '@faultline/contracts';
import { createKafka } from '@faultline/messaging';
import { replicationSlotName } from '@faultline/outbox';
import { kafkaBrokers } from '../../infra/infra';
import { waitFor } from '../../process/wait-for';
import { closedLoop, openLoop } from '../bench-load';
import { histogramBuckets, histogramQuantile, type BenchSample } from '../bench-stats';
import { awaitFinal, createScratchOrdersDatabase, orderItems, rawOrders } from '../order-path';
import { sampleOf, Scenario, ScenarioContext } from './scenario';

const RAW_TOPIC = 'bench.raw-producer';
/** The relay's RELAY_MAX_BATCH_EVENTS default: the raw producer batches the same way. */
const RELAY_BATCH = 500;
/** The second relay's source database, slot and topic. */
const DRAIN_DATABASE = 'bench_relay';
const DRAIN_TOPIC = 'bench.relay-drain';

export function relayScenario({ lab, settings, progress, settle }: ScenarioContext): Scenario {
  const sample = sampleOf('relay');
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  /** The second relay (its pid, and how to stop it). */
  let drainRelay: { pid: number; stop: () => Promise<void> } | undefined;
  /** Events in a topic: the sum of its partitions' end offsets. */
  const published = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  const relayMetrics = async () => (await fetch(`http://127.0.0.1:${lab.layout.ports.relayOrdersHttp}/metrics`)).text();
  const finalIn = (ids: string[]) => awaitFinal((text, params) => lab.sql('orders', text, params), ids);
  // A message shaped like the relay's: order id key, OrderPlaced-sized payload, the event headers.
  const message = (i: number) => {
    const orderId = randomUUID();
    return {
      key: orderId,
      value: JSON.stringify({
        orderId,
        customerId: `bench-raw-${(i % 200) + 1}`,
        items: orderItems(i),
        placedAt: new Date().toISOString(),
      }),
      headers: {
        [EVENT_HEADERS.eventId]: randomUUID(),
        [EVENT_HEADERS.eventType]: 'OrderPlaced',
        [EVENT_HEADERS.eventVersion]: '1',
        [EVENT_HEADERS.traceparent]: `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`,
      },
    };
  };

  /** `count` messages in batches as large as the relay's. */
  const batchesOf = (count: number) =>
    Array.from({ length: Math.ceil(count / RELAY_BATCH) }, (_, b) =>
      Array.from({ length: Math.min(RELAY_BATCH, count - b * RELAY_BATCH) }, (_, i) => message(b * RELAY_BATCH + i)),
    );
  /**
   * Sends batches built beforehand, one in flight; resolves the milliseconds taken. Built inside the timed loop, the
   * baseline also timed the bench process building them: it moved between 17,000 and 27,000 messages/s from run to
   * run while the relay held at 11,600-16,200 events/s.
   */
  const sendBatches = async (batches: ReturnType<typeof batchesOf>) => {
    const started = performance.now();
    for (const messages of batches) await producer.send({ topic: RAW_TOPIC, acks: -1, messages });
    return performance.now() - started;
  };

  return {
    area: 'relay',
    async setup() {
      kafka = createKafka({
        clientId: 'bench-raw-producer',
        brokers: kafkaBrokers(lab.layout),
        connectionTimeoutMs: 3000,
      });
      admin = kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      const missing = [RAW_TOPIC, DRAIN_TOPIC].filter((topic) => !topics.includes(topic));
      if (missing.length > 0)
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
        });
      // The relay's producer settings (libs/messaging createEventProducer): idempotent, one request in flight.
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      progress.step('relay', `starting a second outbox-relay-orders on ${DRAIN_DATABASE} → ${DRAIN_TOPIC}`);
      const source = await createScratchOrdersDatabase(lab.layout, DRAIN_DATABASE, { publication: true });
      const { child } = await lab.spawnService('outbox-relay-orders', {
        DATABASE_URL: source.url,
        RELAY_SLOT_NAME: DRAIN_DATABASE,
        RELAY_TOPIC: DRAIN_TOPIC,
      });
      const stop = async () => {
        await lab.stopChild(child);
        await source.drop();
      };
      if (child.pid === undefined) throw new Error('the second relay has no pid');
      drainRelay = { pid: child.pid, stop };
      // Its slot would hold WAL for ever: whatever happens, it goes with the suite.
      lab.onCleanup(stop);
    },
    async run(): Promise<BenchSample[]> {
      const { fixedMs, rate, concurrency, relayBacklog, rawProducerMessages } = settings;
      const orders = rawOrders(lab.layout, 'orders', concurrency);
      try {
        progress.step(
          'relay',
          `lag: raw orders committed at ${rate}/s and, at the same time, raw single sends at ${rate}/s`,
        );
        const before = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const fixedIds: string[] = [];
        // Side by side in the same seconds: whatever the machine and the broker do then, both sides see it.
        const [, singles] = await Promise.all([
          openLoop({ rate, durationMs: fixedMs }, async (i) => fixedIds.push(await orders.place(i, 'bench-relay'))),
          openLoop({ rate, durationMs: fixedMs }, (i) =>
            producer.send({ topic: RAW_TOPIC, acks: -1, messages: [message(i)] }),
          ),
        ]);
        const slot = replicationSlotName('orders');
        await waitForSlot(lab, slot, await currentLsn(lab));
        const after = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const lag = {
          p50: histogramQuantile(before, after, 0.5) * 1000,
          p99: histogramQuantile(before, after, 0.99) * 1000,
        };
        await finalIn(fixedIds);
        await settle();

        progress.step(
          'relay',
          `throughput: ${relayBacklog} order transactions behind the second relay, frozen, then drained between two halves of ${rawProducerMessages} raw sends`,
        );
        if (!drainRelay) throw new Error('the second relay did not start');
        const backlog = rawOrders(lab.layout, DRAIN_DATABASE, concurrency);
        let drained: number;
        let rawRate: number;
        try {
          const thaw = await lab.freeze([drainRelay.pid], 'the second outbox-relay-orders');
          try {
            await closedLoop({ limit: relayBacklog, workers: concurrency }, (i) => backlog.place(i, 'bench-drain'));
            const rawHalf = Math.round(rawProducerMessages / 2);
            const [firstHalf, secondHalf] = [batchesOf(rawHalf), batchesOf(rawProducerMessages - rawHalf)];
            const rawBefore = await sendBatches(firstHalf);
            const backlogStart = await published(DRAIN_TOPIC);
            thaw();
            const thawedAt = performance.now();
            await waitFor(async () => (await published(DRAIN_TOPIC)) >= backlogStart + relayBacklog, {
              description: `the ${relayBacklog} backlog events in ${DRAIN_TOPIC}`,
              timeoutMs: 120_000,
              intervalMs: 10,
            });
            drained = (relayBacklog * 1000) / (performance.now() - thawedAt);
            const rawAfter = await sendBatches(secondHalf);
            // Both halves bracket the drain: the baseline is the rate over both.
            rawRate = (rawProducerMessages * 1000) / (rawBefore + rawAfter);
          } finally {
            thaw();
          }
        } finally {
          await backlog.end();
        }
        return [
          sample(
            'throughput',
            'relay drain rate (CDC → Kafka ack)',
            'events/s',
            drained,
            'raw kafkajs producer, batches of 500',
            rawRate,
          ),
          sample(
            'lag-p50',
            `relay lag p50 (commit → Kafka ack) at ${rate}/s`,
            'ms',
            lag.p50,
            `raw send → ack p50 at ${rate}/s`,
            singles.p50,
          ),
          sample(
            'lag-p99',
            `relay lag p99 (commit → Kafka ack) at ${rate}/s`,
            'ms',
            lag.p99,
            `raw send → ack p99 at ${rate}/s`,
            singles.p99,
          ),
        ];
      } finally {
        await orders.end();
      }
    },
    async teardown() {
      await drainRelay?.stop();
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
    async () =>
      (
        await lab.sql<{ ok: boolean }>(
          'orders',
          'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1',
          [slot, lsn],
        )
      )[0]?.ok,
    { description: `replication slot ${slot} to confirm ${lsn}`, timeoutMs: 120_000, intervalMs: 50 },
  );
}
