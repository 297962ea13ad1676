import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { INVENTORY_V1 } from '@faultline/contracts';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { InventoryConfig } from './inventory.config';

const grpcControllers = [GrpcHealthController([INVENTORY_V1.fullName])];

@Module({})
export class InventoryModule {
  static forRoot(config: InventoryConfig, kit: ServiceKit): DynamicModule {
    return {
      module: InventoryModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [postgresProbe(config.DATABASE_URL), kafkaProbe({ clientId: 'inventory', brokers: config.KAFKA_BROKERS })],
        }),
      ],
      controllers: [...grpcControllers],
    };
  }
}
