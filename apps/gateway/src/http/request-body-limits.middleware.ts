import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ProblemException } from '../errors/problem-details';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// application/json with optional parameters (charset); the parser itself refuses charsets other than UTF-8 with 415.
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Bounds and types request bodies before any handler sees them: a body over HTTP_BODY_LIMIT_BYTES is 413, a body
 * that is not `application/json` is 415. (Express's JSON parser, registered by the shared bootstrap, already ran with
 * its own 100 KiB ceiling; this is the gateway's tighter policy. Its re-serialised size also catches chunked bodies
 * that carry no Content-Length.)
 */
@Injectable()
export class RequestBodyLimitsMiddleware implements NestMiddleware {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  use(req: Request, _res: Response, next: NextFunction) {
    const limit = this.config.HTTP_BODY_LIMIT_BYTES;
    const declared = Number(req.header('content-length') ?? '0');
    const hasBody = declared > 0 || req.header('transfer-encoding') !== undefined;
    if (declared > limit || (req.body !== undefined && Buffer.byteLength(JSON.stringify(req.body) ?? '') > limit)) {
      throw new ProblemException('payloadTooLarge', { detail: `The request body must not exceed ${limit} bytes.` });
    }
    if (hasBody && METHODS_WITH_BODY.has(req.method) && !JSON_MEDIA_TYPE.test(req.header('content-type') ?? '')) {
      throw new ProblemException('unsupportedMediaType', {
        detail: 'Request bodies must be JSON, sent with Content-Type: application/json.',
        headers: { 'Accept-Post': 'application/json' },
      });
    }
    next();
  }
}
