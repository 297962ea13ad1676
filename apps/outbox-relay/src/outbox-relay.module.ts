import { DynamicModule, Module } from '@nestjs/common';
import { ServiceKit } from '@faultline/bootstrap';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { OutboxRelayConfig } from './outbox-relay.config';

@Module({})
export class OutboxRelayModule {
  static forRoot(config: OutboxRelayConfig, kit: ServiceKit): DynamicModule {
    return {
      module: OutboxRelayModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            postgresProbe(config.DATABASE_URL, `postgres-${config.RELAY_SOURCE}`),
            kafkaProbe({ clientId: `outbox-relay-${config.RELAY_SOURCE}`, brokers: config.KAFKA_BROKERS }),
          ],
        }),
      ],
    };
  }
}
