import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { ORDERS_V1 } from '@faultline/contracts';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { OrdersConfig } from './orders.config';

const grpcControllers = [GrpcHealthController([ORDERS_V1.fullName])];

@Module({})
export class OrdersModule {
  static forRoot(config: OrdersConfig, kit: ServiceKit): DynamicModule {
    return {
      module: OrdersModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [postgresProbe(config.DATABASE_URL), kafkaProbe({ clientId: 'orders', brokers: config.KAFKA_BROKERS })],
        }),
      ],
      controllers: [...grpcControllers],
    };
  }
}
