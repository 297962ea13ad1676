import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, type Logger } from '@faultline/observability';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { CallContext, GrpcClients } from '../grpc/grpc-clients';
import { DependencyPolicies } from '../resilience/dependency-policies';
import { MAX_RECOMMENDATIONS_LIMIT, RecommendationsBody } from './recommendations.http-schema';

type Items = RecommendationsBody['items'];

/**
 * What GET /v1/recommendations answers when recommendations cannot: by default (RECS_FALLBACK=static) a list
 * computed ONCE at start-up (asked from recommendations, best effort within its deadline, else the configured
 * SKUs) and served from memory: the fallback path does no I/O, so it stays fast and adds no load anywhere while
 * something is already failing. RECS_FALLBACK=naive asks orders for its top sellers on every fallback instead: new
 * work on the orders database during the outage, kept only so the lab can show why that is wrong.
 */
@Injectable()
export class RecommendationsFallback implements OnApplicationBootstrap {
  private staticItems: Items;
  private origin: 'built-in' | 'pre-warmed' = 'built-in';

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly grpc: GrpcClients,
    private readonly policies: DependencyPolicies,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // Built-in default: the configured SKUs, best first, with descending scores so the order means something.
    this.staticItems = config.RECS_STATIC_DEFAULT_SKUS.map((sku, i, all) => ({ sku, score: all.length - i }));
  }

  /** Pre-warm: one call at start (bounded by the recommendations deadline); a failure keeps the built-in default. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const answer = await this.grpc.recommendations.getRecommendations(
        { limit: MAX_RECOMMENDATIONS_LIMIT },
        startupContext(),
      );
      if (answer.items.length > 0) {
        this.staticItems = answer.items.map((item) => ({ sku: item.sku, score: item.score }));
        this.origin = 'pre-warmed';
      }
    } catch (error) {
      this.logger.warn(
        { err: error },
        'recommendations could not be pre-warmed; the static fallback is the built-in default',
      );
    }
    this.logger.info(
      { origin: this.origin, items: this.staticItems.length, mode: this.config.RECS_FALLBACK },
      'recommendations fallback ready',
    );
  }

  /** The fallback answer for `limit` items. Static: memory only. Naive: a GetTopSellers call to orders. */
  async answer(limit: number, context: CallContext): Promise<RecommendationsBody> {
    const policy = this.policies.for('recommendations');
    if (this.config.RECS_FALLBACK === 'naive') {
      try {
        const top = await this.grpc.orders.getTopSellers({ limit }, context);
        policy.recordFallback('naive');
        return { items: top.items.map((item) => ({ sku: item.sku, score: item.quantity })), source: 'fallback' };
      } catch {
        // orders failed too: fall through to the static list
      }
    }
    policy.recordFallback('static');
    return { items: this.staticItems.slice(0, limit), source: 'fallback' };
  }
}

/** A fresh sampled W3C traceparent for the start-up call, which belongs to no request. */
function startupContext(): CallContext {
  return { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` };
}
