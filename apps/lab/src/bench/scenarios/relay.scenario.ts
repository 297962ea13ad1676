// The CDC relay (outbox-relay-orders) vs a raw kafkajs producer on the same broker.
//
// Lag: raw order transactions committed into the lab's `orders` database at the fixed rate; the relay's own
// commit → Kafka-ack histogram between two scrapes (good to its buckets: 5, 10, 25, 50, 100 ms …). Baseline: single
// messages produced at the same rate, send → ack.
// Throughput: the relay frozen (SIGSTOP) while a backlog of orders is committed, then thawed; events/s until its slot
// confirmed the last backlog commit (it confirms only what Kafka acknowledged). Baseline: the same number of messages
// of the same size produced in batches as large as the relay's (500), one batch in flight, acks=all.
// The backlog orders are real orders: the saga ends them before the next run starts.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kafka, Producer } from 'kafkajs';
import { EVENT_HEADERS } from '@faultline/contracts';
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

export function relayScenario({ lab, settings, progress }: ScenarioContext): Scenario {
  const sample = sampleOf('relay');
  let kafka: Kafka;
  let producer: Producer;
  /** The relay's pid while it is frozen: whatever happens, it is thawed (here, or by the lab's cleanup). */
  let frozen: number | undefined;
  const thaw = () => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
  };
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

  return {
    area: 'relay',
    async setup() {
      lab.onCleanup(thaw);
      kafka = createKafka({ clientId: 'bench-raw-producer', brokers: kafkaBrokers(lab.layout), connectionTimeoutMs: 3000 });
      const admin = kafka.admin();
      await admin.connect();
      try {
        if (!(await admin.listTopics()).includes(RAW_TOPIC)) await admin.createTopics({ waitForLeaders: true, topics: [{ topic: RAW_TOPIC, numPartitions: 3, replicationFactor: 1 }] });
      } finally {
        await admin.disconnect();
      }
      // The relay's producer settings (libs/messaging createEventProducer): idempotent, one request in flight.
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
    },
    async run(): Promise<BenchSample[]> {
      const { phaseMs, rate, concurrency, relayBacklog } = settings;
      const orders = rawOrders(lab.layout, 'orders', concurrency);
      try {
        progress.step('relay', `lag: raw orders committed at ${rate}/s, then raw single sends at ${rate}/s`);
        const before = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const fixedIds: string[] = [];
        await openLoop({ rate, durationMs: phaseMs }, async (i) => fixedIds.push(await orders.place(i, 'bench-relay')));
        const slot = replicationSlotName('orders');
        await waitForSlot(lab, slot, await currentLsn(lab));
        const after = histogramBuckets(await relayMetrics(), 'outbox_relay_lag_seconds');
        const lag = { p50: histogramQuantile(before, after, 0.5) * 1000, p99: histogramQuantile(before, after, 0.99) * 1000 };
        const singles = await openLoop({ rate, durationMs: phaseMs }, (i) => producer.send({ topic: RAW_TOPIC, acks: -1, messages: [message(i)] }));
        await finalIn(fixedIds);

        progress.step('relay', `throughput: ${relayBacklog} events behind a frozen relay, then the same through a raw producer`);
        const pid = await lab.pidOf('outbox-relay-orders');
        process.kill(pid, 'SIGSTOP');
        frozen = pid;
        const backlogIds: string[] = [];
        try {
          // The kernel stops it asynchronously: await /proc saying so before counting on it.
          const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[0];
          await waitFor(async () => state() === 'T', { description: `outbox-relay-orders (pid ${pid}) to stop on SIGSTOP`, timeoutMs: 5000, intervalMs: 10 });
          await closedLoop({ limit: relayBacklog, workers: concurrency }, async (i) => backlogIds.push(await orders.place(i, 'bench-relay')));
        } finally {
          thaw();
        }
        const thawedAt = performance.now();
        await waitForSlot(lab, slot, await currentLsn(lab), 10);
        const drained = (backlogIds.length * 1000) / (performance.now() - thawedAt);
        const started = performance.now();
        for (let sent = 0; sent < relayBacklog; sent += RELAY_BATCH) {
          await producer.send({ topic: RAW_TOPIC, acks: -1, messages: Array.from({ length: Math.min(RELAY_BATCH, relayBacklog - sent) }, (_, i) => message(sent + i)) });
        }
        const rawRate = (relayBacklog * 1000) / (performance.now() - started);
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
    },
  };
}

async function currentLsn(lab: ScenarioContext['lab']): Promise<string> {
  return (await lab.sql<{ lsn: string }>('orders', 'SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn;
}

/** Awaits the relay's slot confirming `lsn`: everything committed before it is in Kafka. */
async function waitForSlot(lab: ScenarioContext['lab'], slot: string, lsn: string, intervalMs = 50): Promise<void> {
  await waitFor(
    async () => (await lab.sql<{ ok: boolean }>('orders', 'SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]))[0]?.ok,
    { description: `replication slot ${slot} to confirm ${lsn}`, timeoutMs: 120_000, intervalMs },
  );
}
