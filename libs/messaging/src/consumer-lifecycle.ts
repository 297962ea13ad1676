import { Inject, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { ParsedEvent } from '@faultline/contracts';
import { LOGGER, type Logger, METRICS_REGISTRY } from '@faultline/observability';
import { createEventConsumer, EventConsumer, EventConsumerOptions, HandleContext, HandleOutcome } from './event-consumer';

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

  protected abstract consumerSpec(): ConsumerSpec;
  abstract handle(event: ParsedEvent, context: HandleContext): Promise<HandleOutcome>;

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = createEventConsumer({
      ...this.consumerSpec(),
      handle: (event, context) => this.handle(event, context),
      logger: this.logger,
      registry: this.registry,
    });
    await this.consumer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
