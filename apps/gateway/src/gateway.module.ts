import { DynamicModule, Module } from '@nestjs/common';
import { ServiceKit } from '@faultline/bootstrap';
import { INVENTORY_V1, NOTIFICATIONS_V1, ORDERS_V1 } from '@faultline/contracts';
import { grpcHealthProbe, ObservabilityModule, redisProbe } from '@faultline/observability';
import { GatewayConfig } from './gateway.config';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, kit: ServiceKit): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          // Recommendations is left out on purpose: the gateway answers from a static fallback without it.
          probes: [
            redisProbe(config.REDIS_URL),
            grpcHealthProbe('orders', config.ORDERS_GRPC_ADDRESS, ORDERS_V1.fullName),
            grpcHealthProbe('inventory', config.INVENTORY_GRPC_ADDRESS, INVENTORY_V1.fullName),
            grpcHealthProbe('notifications', config.NOTIFICATIONS_GRPC_ADDRESS, NOTIFICATIONS_V1.fullName),
          ],
        }),
      ],
    };
  }
}
