import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { traceContextOf } from './trace-context';

/** Gives every request its trace context and echoes it in the `traceparent` response header. */
@Injectable()
export class TraceContextMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction) {
    traceContextOf(req, res);
    // Which framework serves the API is nobody's business but ours.
    res.removeHeader('X-Powered-By');
    next();
  }
}
