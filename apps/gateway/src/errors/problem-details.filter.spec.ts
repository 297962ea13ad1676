import { status as GrpcStatus } from '@grpc/grpc-js';
import { ArgumentsHost, NotFoundException } from '@nestjs/common';
import type { Logger } from '@faultline/observability';
import { GatewayConfig } from '../gateway.config';
import { GrpcCallError } from '../grpc/grpc-call';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ProblemException } from './problem-details';

interface Captured {
  status?: number;
  headers: Record<string, string>;
  body?: string;
  contentType?: string;
}

function run(exception: unknown, request: { path?: string; method?: string; headers?: Record<string, string> } = {}) {
  const captured: Captured = { headers: {} };
  const logged: unknown[] = [];
  const logger = {
    info: (...args: unknown[]) => logged.push(args),
    warn: (...args: unknown[]) => logged.push(args),
    error: (...args: unknown[]) => logged.push(args),
  } as unknown as Logger;
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const req = {
    path: request.path ?? '/v1/orders',
    method: request.method ?? 'GET',
    header: (name: string) => headers[name.toLowerCase()],
  };
  const res = {
    headersSent: false,
    setHeader: (name: string, value: string) => void (captured.headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete captured.headers[name.toLowerCase()],
    status(code: number) {
      captured.status = code;
      return this;
    },
    type(value: string) {
      captured.contentType = value;
      return this;
    },
    send(body: string) {
      captured.body = body;
      return this;
    },
  };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ArgumentsHost;
  new ProblemDetailsFilter(logger, { UNAVAILABLE_RETRY_AFTER_SECONDS: 2 } as GatewayConfig).catch(exception, host);
  return {
    ...captured,
    json: JSON.parse(captured.body ?? '{}') as Record<string, unknown>,
    logged: JSON.stringify(logged),
    loggedRaw: logged,
  };
}

const SECRET_BITS = ['SELECT', 'orders-db.internal', '10.1.2.3', 'at Object', '.ts:', 'ECONNREFUSED'];
function expectNothingInternal(body: string | undefined) {
  for (const bit of SECRET_BITS) expect(body).not.toContain(bit);
}

describe('ProblemDetailsFilter', () => {
  it('answers a ProblemException as problem+json with type, title, status, detail and traceId', () => {
    const out = run(
      new ProblemException('validation', { detail: 'bad', errors: [{ field: 'items', message: 'too many' }] }),
    );
    expect(out.status).toBe(400);
    expect(out.contentType).toBe('application/problem+json');
    expect(out.json).toEqual({
      type: 'urn:faultline:problem:validation',
      title: 'Request validation failed',
      status: 400,
      detail: 'bad',
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      errors: [{ field: 'items', message: 'too many' }],
    });
    expect(out.headers.traceparent).toBe(
      `00-${out.json.traceId as string}-${out.headers.traceparent.slice(36, 52)}-01`,
    );
  });

  it('keeps the trace id of a valid incoming traceparent', () => {
    const out = run(new ProblemException('notFound', { detail: 'x' }), {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    expect(out.json.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('never sends a stack, SQL or an internal address of an unexpected error: 500, logged instead', () => {
    const error = new Error('SELECT * FROM orders failed at orders-db.internal (10.1.2.3)');
    const out = run(error);
    expect(out.status).toBe(500);
    expectNothingInternal(out.body);
    expect(Object.keys(out.json).sort()).toEqual(['detail', 'status', 'title', 'traceId', 'type']);
    expect(out.loggedRaw).toEqual([[{ err: error }, 'unhandled error']]);
  });

  it.each([
    [GrpcStatus.UNAVAILABLE, 503],
    [GrpcStatus.DEADLINE_EXCEEDED, 504],
    [GrpcStatus.INTERNAL, 502],
    [GrpcStatus.UNIMPLEMENTED, 502],
    [GrpcStatus.NOT_FOUND, 404],
  ])("maps gRPC %s to %s without the dependency's details string", (code, status) => {
    const out = run(
      new GrpcCallError(
        'orders',
        'GetOrder',
        code,
        'connect ECONNREFUSED 10.1.2.3:50051 SELECT at Object.<anonymous> (x.ts:1)',
        {},
      ),
    );
    expect(out.status).toBe(status);
    expectNothingInternal(out.body);
    expect(out.logged).toContain('ECONNREFUSED');
    if (status === 503) expect(out.headers['retry-after']).toBe('2');
  });

  it("uses the slice's detail for an expected status", () => {
    const out = run(
      new GrpcCallError('orders', 'PlaceOrder', GrpcStatus.FAILED_PRECONDITION, 'hash mismatch', {
        [GrpcStatus.FAILED_PRECONDITION]: 'key reused',
      }),
    );
    expect(out.status).toBe(422);
    expect(out.json.detail).toBe('key reused');
  });

  it('answers body parser errors: malformed JSON 400, too large 413, wrong charset 415', () => {
    const parserError = (type: string, status: number) =>
      Object.assign(new Error(`parser says ${type} at /srv/app.ts:1`), { type, status });
    expect(run(parserError('entity.parse.failed', 400)).status).toBe(400);
    expect(run(parserError('entity.too.large', 413)).status).toBe(413);
    expect(run(parserError('charset.unsupported', 415)).status).toBe(415);
    expectNothingInternal(run(parserError('entity.parse.failed', 400)).body);
  });

  it('answers an unmatched route with 404, or 405 with Allow when the path exists with other methods', () => {
    expect(run(new NotFoundException('Cannot GET /nope'), { path: '/nope' }).status).toBe(404);
    const wrongMethod = run(new NotFoundException('Cannot DELETE /v1/orders/x'), {
      path: '/v1/orders/x',
      method: 'DELETE',
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
  });
});
