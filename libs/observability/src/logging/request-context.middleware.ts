import { randomUUID } from 'node:crypto';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from './logger';

export const LOGGER = Symbol('LOGGER');

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Gives every HTTP request an id (the caller's `X-Request-Id` when it is well-formed, else a new one), echoes it in
 * the response, and logs one line per completed request with that id, so a user can follow a request through logs.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  use(req: Request, res: Response, next: NextFunction) {
    const incoming = req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const log = this.logger.child({ requestId });
    (req as Request & { log?: Logger }).log = log;
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // Probes and scrapes would drown the log; they are visible in metrics instead.
      if (req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics') return;
      log.info(
        { method: req.method, path: req.path, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10 },
        'request completed',
      );
    });
    next();
  }
}
