import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { NOTIFICATIONS_V1 } from '@faultline/contracts';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { NotificationsConfig } from './notifications.config';

const grpcControllers = [GrpcHealthController([NOTIFICATIONS_V1.fullName])];

@Module({})
export class NotificationsModule {
  static forRoot(config: NotificationsConfig, kit: ServiceKit): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [postgresProbe(config.DATABASE_URL), kafkaProbe({ clientId: 'notifications', brokers: config.KAFKA_BROKERS })],
        }),
      ],
      controllers: [...grpcControllers],
    };
  }
}
