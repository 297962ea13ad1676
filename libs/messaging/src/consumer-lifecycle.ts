import { Inject, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { ParsedEvent } from '@faultline/contracts';
import { LOGGER, type Logger, METRICS_REGISTRY } from '@faultline/observability';
import { ConsumerLagSampler } from './consumer-lag';
import { consumerMetrics } from './consumer-metrics';
import {
  createEventConsumer,
  EventConsumer,
  EventConsumerOptions,
  HandleContext,
  HandleOutcome,
} from './event-consumer';

/** What a message controller consumes; the logger and metrics registry come from the app. */
export type ConsumerSpec = Omit<EventConsumerOptions, 'handle' | 'logger' | 'registry'>;

/**
 * Runs one EventConsumer for the lifetime of a Nest application: it joins its group once the app has started (so
 * its handler can use the database the app opened) and leaves it on shutdown, before the database closes. A
 * service's message controller extends this, says what it consumes (`consumerSpec`) and handles each event.
 */
export abstract class ConsumerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  @Inject(LOGGER) protected readonly logger!: Logger;
  @Inject(METRICS_REGISTRY) private readonly registry!: Registry;
  private consumer?: EventConsumer;
  private lag?: ConsumerLagSampler;

  protected abstract consumerSpec(): ConsumerSpec;
  abstract handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome>;

  async onApplicationBootstrap(): Promise<void> {
    const spec = this.consumerSpec();
    this.consumer = createEventConsumer({
      ...spec,
      handle: (event, context) => this.handle(event, context),
      logger: this.logger,
      registry: this.registry,
    });
    await this.consumer.start();
    // Zero, not absent, until the first duplicate or dead letter: rate() and the dashboards need the series to exist.
    const metrics = consumerMetrics(this.registry);
    metrics.duplicates.inc({ consumer: spec.name ?? spec.groupId }, 0);
    for (const topic of spec.topics) metrics.dlq.inc({ topic }, 0);
    // Lag per partition, sampled from Kafka beside the consumer (kafka_consumer_lag_messages).
    this.lag = new ConsumerLagSampler({ ...spec, registry: this.registry, logger: this.logger });
    this.lag.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.lag?.stop();
    await this.consumer?.stop();
  }
}
