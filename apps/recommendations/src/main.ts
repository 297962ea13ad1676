import './tracing'; // first: see tracing.ts
import { runService } from '@faultline/bootstrap';
import { RECOMMENDATIONS_V1 } from '@faultline/contracts';
import { recommendationsConfigSchema } from './recommendations.config';
import { RecommendationsModule } from './recommendations.module';

void runService({
  name: 'recommendations',
  schema: recommendationsConfigSchema,
  logLevel: (c) => c.LOG_LEVEL,
  readiness: (c) => c.READINESS,
  http: (c) => ({ port: c.HTTP_PORT }),
  grpc: (c) => ({ port: c.GRPC_PORT, services: [RECOMMENDATIONS_V1] }),
  module: (c, kit) => RecommendationsModule.forRoot(c, kit),
});
