import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { RECOMMENDATIONS_V1 } from '@faultline/contracts';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, redisProbe } from '@faultline/observability';
import { PopularityStore } from './popularity.store';
import { RECOMMENDATIONS_CONFIG, RecommendationsConfig } from './recommendations.config';
import { GetRecommendationsGrpcController } from './get-recommendations.grpc.controller';
import { OrderConfirmedMessageController } from './order-confirmed.message.controller';

const grpcControllers = [GrpcHealthController([RECOMMENDATIONS_V1.fullName]), GetRecommendationsGrpcController];
const messageControllers = [OrderConfirmedMessageController];

/** Kept flat on purpose (see README): one consumer, one sorted set, one query. */
@Module({})
export class RecommendationsModule {
  static forRoot(config: RecommendationsConfig, kit: ServiceKit): DynamicModule {
    return {
      module: RecommendationsModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [
            redisProbe(config.REDIS_URL),
            kafkaProbe({ clientId: 'recommendations', brokers: config.KAFKA_BROKERS }),
          ],
        }),
      ],
      controllers: [...grpcControllers],
      providers: [{ provide: RECOMMENDATIONS_CONFIG, useValue: config }, PopularityStore, ...messageControllers],
    };
  }
}
