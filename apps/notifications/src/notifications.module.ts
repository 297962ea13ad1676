import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { NOTIFICATIONS_V1 } from '@faultline/contracts';
import { DatabaseModule } from '@faultline/database';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { CreateNotificationsSchema1764201800000 } from './database/migrations/1764201800000-create-notifications-schema';
import { CreateDeliveries1764201800001 } from './database/migrations/1764201800001-create-deliveries';
import { CreateAppliedUntil1764201800002 } from './database/migrations/1764201800002-create-applied-until';
import { NotificationsConfig } from './notifications.config';
import { ListNotificationsGrpcController } from './list-notifications.grpc.controller';
import { NOTIFICATIONS_CONFIG } from './notifications.tokens';
import { OrderOutcomeMessageController } from './order-outcome.message.controller';

/** Kept flat on purpose (see README): one consumer, one query, no domain layer. */
@Module({})
export class NotificationsModule {
  static forRoot(config: NotificationsConfig, kit: ServiceKit): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            postgresProbe(config.DATABASE_URL),
            kafkaProbe({ clientId: 'notifications', brokers: config.KAFKA_BROKERS }),
          ],
        }),
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          migrations: [
            CreateNotificationsSchema1764201800000,
            CreateDeliveries1764201800001,
            CreateAppliedUntil1764201800002,
          ],
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: 'notifications',
        }),
      ],
      controllers: [GrpcHealthController([NOTIFICATIONS_V1.fullName]), ListNotificationsGrpcController],
      providers: [{ provide: NOTIFICATIONS_CONFIG, useValue: config }, OrderOutcomeMessageController],
    };
  }
}
