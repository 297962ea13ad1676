import type { Admin } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@faultline/observability';
import { createKafka } from './kafka-client';

/** How often lag is sampled: a few seconds resolves a saga step while costing two small admin requests. */
export const CONSUMER_LAG_INTERVAL_MS = 5000;

export interface ConsumerLagOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: string[];
  registry: Registry;
  logger: Logger;
  intervalMs?: number;
}

function lagGauge(registry: Registry): Gauge<'group' | 'topic' | 'partition'> {
  const name = 'kafka_consumer_lag_messages';
  return (
    (registry.getSingleMetric(name) as Gauge<'group' | 'topic' | 'partition'> | undefined) ??
    new Gauge({
      name,
      help: "Messages a consumer group has yet to commit per partition: the topic's high watermark minus the group's committed offset",
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    })
  );
}

/**
 * Samples one group's lag from Kafka's own bookkeeping (admin fetchOffsets vs fetchTopicOffsets), not from the
 * consumer's memory, so a stuck or crashed handler shows as growing lag. Partitions are a fixed small set per topic.
 * A partition the group never committed counts from the low watermark (everything retained is unconsumed).
 */
export class ConsumerLagSampler {
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private busy = false;
  private readonly gauge: Gauge<'group' | 'topic' | 'partition'>;

  constructor(private readonly options: ConsumerLagOptions) {
    this.gauge = lagGauge(options.registry);
  }

  start(): void {
    const interval = this.options.intervalMs ?? CONSUMER_LAG_INTERVAL_MS;
    const tick = () => {
      if (this.busy) return; // a slow broker: one sample at a time, never a pile of admin connections
      this.busy = true;
      void this.sample()
        .catch((error: unknown) => {
          this.options.logger.debug({ err: error, group: this.options.groupId }, 'consumer lag sample failed');
          const stale = this.admin;
          this.admin = undefined;
          void stale?.disconnect().catch(() => undefined);
        })
        .finally(() => {
          this.busy = false;
        });
    };
    tick();
    this.timer = setInterval(tick, interval);
    this.timer.unref();
  }

  /** Never waits for a sample in flight: against a hung broker it could outlast the shutdown grace period. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  async sample(): Promise<void> {
    if (!this.admin) {
      const admin = createKafka({ brokers: this.options.brokers, clientId: `${this.options.clientId}-lag` }).admin({
        retry: { retries: 0 },
      });
      await admin.connect();
      if (this.stopped) {
        await admin.disconnect();
        return;
      }
      this.admin = admin;
    }
    const { groupId, topics } = this.options;
    const committed = await this.admin.fetchOffsets({ groupId, topics });
    for (const { topic, partitions } of committed) {
      const watermarks = await this.admin.fetchTopicOffsets(topic);
      for (const mark of watermarks) {
        const own = partitions.find((p) => p.partition === mark.partition);
        const offset = own && Number(own.offset) >= 0 ? Number(own.offset) : Number(mark.low);
        this.gauge.set(
          { group: groupId, topic, partition: String(mark.partition) },
          Math.max(0, Number(mark.high) - offset),
        );
      }
    }
  }
}
