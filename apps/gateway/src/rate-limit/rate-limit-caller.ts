import type { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { type Caller, CurrentCaller } from '../auth/route-access';

type ParamFactory = (data: unknown, context: ExecutionContext) => Caller;

// The caller is kept on the request under a symbol private to auth/route-access.ts; its one public reader is the
// @CurrentCaller() parameter decorator. Applying it to a probe method and taking the factory Nest recorded reads the
// caller exactly as a handler would, without reaching into auth's internals — including its loud failure when the
// JWT guard did not run. (Simpler once route-access exports a `callerOf(req)`.)
class CallerProbe {
  handler(@CurrentCaller() _caller: Caller) {
    return _caller;
  }
}
const recorded = Reflect.getMetadata(ROUTE_ARGS_METADATA, CallerProbe, 'handler') as Record<
  string,
  { factory: ParamFactory }
>;
const readCaller: ParamFactory = Object.values(recorded)[0].factory;

/** The authenticated caller of the request in `context` (throws if the JWT guard did not authenticate it). */
export const callerOf = (context: ExecutionContext): Caller => readCaller(undefined, context);
