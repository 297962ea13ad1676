import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { TokenRejectedError, TokenVerifier } from '@faultline/auth';
import { HealthController, LOGGER, type Logger } from '@faultline/observability';
import { ProblemException } from '../errors/problem-details';
import { PUBLIC_ROUTE, REQUIRED_ROLES, Role, setCaller } from './route-access';

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

// RFC 6750: the token is a base64url JWS (three segments); anything else is refused before any crypto runs.
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;
// A token larger than this is not one the lab signs; refusing it bounds the work a request can cause.
const MAX_TOKEN_LENGTH = 4096;

/**
 * Authentication and role checks for every route (a global guard): a valid RS256 token from the lab's issuer for our
 * audience, then the route's roles. Rejections are 401 (no or bad token) and 403 (valid token, wrong role); why a
 * token was rejected is logged, never told to the caller.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    // Health, readiness and metrics come from the shared observability module, which knows nothing of our tokens.
    if (context.getClass() === HealthController || this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets))
      return true;

    const req = context.switchToHttp().getRequest<Request>();
    const header = req.header('authorization');
    if (!header) {
      throw new ProblemException('unauthenticated', {
        detail: 'This route needs an access token: Authorization: Bearer <JWT>.',
        headers: { 'WWW-Authenticate': 'Bearer realm="faultline"' },
      });
    }
    const match = header.length <= MAX_TOKEN_LENGTH + 7 ? BEARER.exec(header) : null;
    let claims;
    try {
      if (!match) throw new TokenRejectedError('not a Bearer JWT');
      claims = await this.verifier.verify(match[1]);
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      const log = (req as Request & { log?: Logger }).log ?? this.logger;
      log.info({ reason: error.reason, path: req.path }, 'access token rejected');
      throw new ProblemException('unauthenticated', {
        detail: 'The access token is invalid or expired.',
        headers: { 'WWW-Authenticate': 'Bearer realm="faultline", error="invalid_token"' },
      });
    }
    const caller = setCaller(req, claims);

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && !roles.includes(caller.role)) {
      throw new ProblemException('forbidden', { detail: `This route is for the role(s): ${roles.join(', ')}.` });
    }
    return true;
  }
}
