import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { AccessTokenClaims } from '@faultline/auth';

export type Role = AccessTokenClaims['role'];

export const PUBLIC_ROUTE = 'faultline:public-route';
export const REQUIRED_ROLES = 'faultline:required-roles';

/** A route anyone may call without a token (health, metrics, docs). Everything else needs a valid token. */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);

/** The roles allowed on a route; a valid token with another role is 403. Routes without it allow every role. */
export const RequireRoles = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

/** The verified caller of a request, as the guard established it. */
export interface Caller {
  customerId: string;
  displayName: string;
  role: Role;
  tier: AccessTokenClaims['tier'];
  isAdmin: boolean;
}

const CALLER = Symbol('caller');
type WithCaller = Request & { [CALLER]?: Caller };

export function setCaller(req: Request, claims: AccessTokenClaims): Caller {
  const caller: Caller = {
    // Any authenticated sub is a customer; orders records it (and its display name) on first use.
    customerId: claims.sub,
    displayName: claims.name ?? claims.sub,
    role: claims.role,
    tier: claims.tier,
    isAdmin: claims.role === 'admin',
  };
  (req as WithCaller)[CALLER] = caller;
  return caller;
}

/** `@CurrentCaller() caller: Caller` in a handler of an authenticated route. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<WithCaller>()[CALLER];
  // The guard runs before every handler; a missing caller is a wiring bug, never the client's fault.
  if (!caller) throw new Error('CurrentCaller used on a route the JWT guard did not authenticate');
  return caller;
});
