import { DynamicModule, Module } from '@nestjs/common';
import { GrpcHealthController, ServiceKit } from '@faultline/bootstrap';
import { RECOMMENDATIONS_V1 } from '@faultline/contracts';
import { kafkaProbe } from '@faultline/messaging';
import { ObservabilityModule, redisProbe } from '@faultline/observability';
import { RecommendationsConfig } from './recommendations.config';

const grpcControllers = [GrpcHealthController([RECOMMENDATIONS_V1.fullName])];

@Module({})
export class RecommendationsModule {
  static forRoot(config: RecommendationsConfig, kit: ServiceKit): DynamicModule {
    return {
      module: RecommendationsModule,
      imports: [
        ObservabilityModule.forRoot({
          ...kit,
          probes: [redisProbe(config.REDIS_URL), kafkaProbe({ clientId: 'recommendations', brokers: config.KAFKA_BROKERS })],
        }),
      ],
      controllers: [...grpcControllers],
    };
  }
}
