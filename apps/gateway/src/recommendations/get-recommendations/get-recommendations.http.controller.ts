import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, type Logger } from '@faultline/observability';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { validateInput } from '../../http/validate-input';
import { RecommendationsFallback } from '../recommendations-fallback';
import {
  DEFAULT_RECOMMENDATIONS_LIMIT,
  RecommendationsBody,
  recommendationsQuerySchema,
} from '../recommendations.http-schema';

/**
 * `GET /v1/recommendations?limit`: the most popular SKUs. Never fails because recommendations does: within its
 * latency budget (the recommendations deadline, also its breaker's timeout) it answers live, else the fallback.
 */
@Controller('v1/recommendations')
export class GetRecommendationsHttpController {
  constructor(
    private readonly grpc: GrpcClients,
    private readonly fallback: RecommendationsFallback,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  async getRecommendations(
    @Query() rawQuery: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RecommendationsBody> {
    const query = validateInput(recommendationsQuerySchema, rawQuery, 'query');
    const limit = query.limit ?? DEFAULT_RECOMMENDATIONS_LIMIT;
    const context = callContextOf(req, res);
    try {
      const answer = await this.grpc.recommendations.getRecommendations({ limit }, context);
      return {
        items: answer.items.slice(0, limit).map((item) => ({ sku: item.sku, score: item.score })),
        source: 'live',
      };
    } catch (error) {
      ((req as Request & { log?: Logger }).log ?? this.logger).debug(
        { err: error },
        'recommendations unavailable; answering the fallback',
      );
      return this.fallback.answer(limit, context);
    }
  }
}
