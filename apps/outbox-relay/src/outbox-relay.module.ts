import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ServiceKit } from '@faultline/bootstrap';
import { kafkaProbe } from '@faultline/messaging';
import { DependencyProbe, ObservabilityModule, postgresProbe } from '@faultline/observability';
import { OutboxRelayConfig } from './outbox-relay.config';
import { OutboxBacklogMetrics } from './backlog/outbox-backlog.metrics';
import { OutboxRelay } from './relay/outbox-relay';

const OUTBOX_RELAY = Symbol('OUTBOX_RELAY');
const OUTBOX_BACKLOG = Symbol('OUTBOX_BACKLOG');

/** Starts streaming once the app is up; stops it (without acknowledging anything unpublished) on SIGTERM. */
@Injectable()
class OutboxRelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay,
    @Inject(OUTBOX_BACKLOG) private readonly backlog: OutboxBacklogMetrics,
  ) {}
  onApplicationBootstrap() {
    this.relay.start();
    this.backlog.start();
  }
  async onApplicationShutdown() {
    await this.backlog.stop();
    await this.relay.stop();
  }
}

/** Ready only while streaming from the slot: a relay that cannot stream is not doing its job. */
function streamingProbe(relay: OutboxRelay): DependencyProbe {
  return {
    name: `replication-slot-${relay.slot}`,
    check: async () => {
      if (!relay.streaming) throw new Error(`not streaming from ${relay.slot}`);
    },
  };
}

@Module({})
export class OutboxRelayModule {
  static forRoot(config: OutboxRelayConfig, kit: ServiceKit): DynamicModule {
    const relay = new OutboxRelay(
      {
        source: config.RELAY_SOURCE,
        ...(config.RELAY_SLOT_NAME ? { slot: config.RELAY_SLOT_NAME } : {}),
        ...(config.RELAY_TOPIC ? { topic: config.RELAY_TOPIC } : {}),
        databaseUrl: config.DATABASE_URL,
        brokers: config.KAFKA_BROKERS,
        maxBufferedEvents: config.RELAY_MAX_BUFFERED_EVENTS,
        maxBatchEvents: config.RELAY_MAX_BATCH_EVENTS,
        restartBackoffMaxMs: config.RELAY_RESTART_BACKOFF_MAX_MS,
        slotLagIntervalMs: config.RELAY_SLOT_LAG_INTERVAL_MS,
        ackIntervalMs: config.RELAY_ACK_INTERVAL_MS,
      },
      kit.logger,
      kit.registry,
    );
    const backlog = new OutboxBacklogMetrics({
      source: config.RELAY_SOURCE,
      slot: relay.slot,
      databaseUrl: config.DATABASE_URL,
      // Sampled as often as the slot lag, which it complements (bytes vs the age of the oldest row behind them).
      intervalMs: config.RELAY_SLOT_LAG_INTERVAL_MS,
      registry: kit.registry,
      logger: kit.logger,
    });
    return {
      module: OutboxRelayModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            postgresProbe(config.DATABASE_URL, `postgres-${config.RELAY_SOURCE}`),
            kafkaProbe({ clientId: `outbox-relay-${config.RELAY_SOURCE}`, brokers: config.KAFKA_BROKERS }),
            streamingProbe(relay),
          ],
        }),
      ],
      providers: [
        { provide: OUTBOX_RELAY, useValue: relay },
        { provide: OUTBOX_BACKLOG, useValue: backlog },
        OutboxRelayLifecycle,
      ],
    };
  }
}
