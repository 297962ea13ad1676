import { z } from 'zod';

/** One offending input of a 400: `field` names where it is (`items[0].quantity`, `Idempotency-Key`, `limit`). */
export const fieldErrorSchema = z.object({ field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof fieldErrorSchema>;

/**
 * RFC 9457 problem details, the body of every error the gateway answers. `traceId` lets a user find the request in
 * logs and (later) traces. Nothing else goes in: no stack, no SQL, no gRPC details, no internal host names.
 */
export const problemDetailsSchema = z.object({
  type: z.string().describe('A URI naming the kind of problem (stable; not meant to be dereferenced).'),
  title: z.string().describe('A short summary of the kind of problem; the same for every occurrence of a type.'),
  status: z.number().int().describe('The HTTP status code of this response.'),
  detail: z.string().describe('What went wrong with this request, for a human.'),
  traceId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .describe('The W3C trace id of this request (also in the traceparent response header).'),
  errors: z.array(fieldErrorSchema).optional().describe('Validation failures only: every offending field.'),
});
export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The kinds of problem the gateway answers with. `type` URIs are URNs: stable names, nothing to fetch. */
export const PROBLEM_TYPES = {
  validation: { status: 400, title: 'Request validation failed' },
  malformedJson: { status: 400, title: 'Malformed JSON body' },
  badRequest: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  notFound: { status: 404, title: 'Not found' },
  methodNotAllowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  idempotencyKeyInFlight: { status: 409, title: 'Request with this Idempotency-Key is in flight' },
  payloadTooLarge: { status: 413, title: 'Request body too large' },
  unsupportedMediaType: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  idempotencyKeyReused: { status: 422, title: 'Idempotency-Key reused with a different request' },
  tooManyRequests: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  badGateway: { status: 502, title: 'Bad gateway' },
  unavailable: { status: 503, title: 'Service unavailable' },
  gatewayTimeout: { status: 504, title: 'Gateway timeout' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemKind = keyof typeof PROBLEM_TYPES;

export function problemTypeUri(kind: ProblemKind): string {
  return `urn:faultline:problem:${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface ProblemInit {
  detail: string;
  errors?: FieldError[];
  /** Extra response headers (Retry-After, Allow, WWW-Authenticate). */
  headers?: Record<string, string>;
}

/**
 * An expected failure, typed at the edge of a slice and answered as problem+json by ProblemDetailsFilter. `detail` is
 * written by gateway code for the caller; it never carries text received from a dependency.
 */
export class ProblemException extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly init: ProblemInit,
  ) {
    super(`${kind}: ${init.detail}`);
    this.name = 'ProblemException';
  }

  get status(): number {
    return PROBLEM_TYPES[this.kind].status;
  }

  toBody(traceId: string): ProblemDetails {
    return problemBody(this.kind, this.init.detail, traceId, this.init.errors);
  }
}

export function problemBody(kind: ProblemKind, detail: string, traceId: string, errors?: FieldError[]): ProblemDetails {
  const { status, title } = PROBLEM_TYPES[kind];
  return { type: problemTypeUri(kind), title, status, detail, traceId, ...(errors ? { errors } : {}) };
}
