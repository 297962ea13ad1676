import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { INVENTORY_V1 } from '@faultline/contracts';
import { DatabaseModule } from '@faultline/database';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, postgresProbe } from '@faultline/observability';
import { OrderPlacedMessageController } from './commands/reserve-stock/order-placed.message.controller';
import { ReserveStockMetrics } from './commands/reserve-stock/reserve-stock.metrics';
import { ReserveStockService } from './commands/reserve-stock/reserve-stock.service';
import { SetStockGrpcController } from './commands/set-stock/set-stock.grpc.controller';
import { inventoryMigrations } from './database/inventory.migrations';
import { InventoryConfig } from './inventory.config';
import { INVENTORY_CONFIG } from './inventory.tokens';
import { GetProductGrpcController } from './queries/get-product/get-product.grpc.controller';
import { ListProductsGrpcController } from './queries/list-products/list-products.grpc.controller';

const grpcControllers = [
  GrpcHealthController([INVENTORY_V1.fullName]),
  GetProductGrpcController,
  ListProductsGrpcController,
  SetStockGrpcController,
];
const commandHandlers = [ReserveStockService, ReserveStockMetrics];
const messageControllers = [OrderPlacedMessageController];

@Module({})
export class InventoryModule {
  static forRoot(config: InventoryConfig, kit: ServiceKit): DynamicModule {
    return {
      module: InventoryModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            postgresProbe(config.DATABASE_URL),
            kafkaProbe({ clientId: 'inventory', brokers: config.KAFKA_BROKERS }),
          ],
        }),
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          migrations: inventoryMigrations,
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: 'inventory',
          watchSlots: true,
        }),
      ],
      controllers: [...grpcControllers],
      providers: [{ provide: INVENTORY_CONFIG, useValue: config }, ...commandHandlers, ...messageControllers],
    };
  }
}
