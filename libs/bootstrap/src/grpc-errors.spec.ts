import { status } from '@grpc/grpc-js';
import { lastValueFrom } from 'rxjs';
import { DomainError, GrpcErrorFilter } from './grpc-errors';

const answer = async (exception: unknown) =>
  lastValueFrom(new GrpcErrorFilter().catch(exception, {} as never)).catch((e: { code: number; message: string }) => e);

describe('GrpcErrorFilter', () => {
  it('answers a domain error with its code and message', async () => {
    expect(await answer(new DomainError('NOT_FOUND', 'no such order'))).toEqual({
      code: status.NOT_FOUND,
      message: 'no such order',
    });
  });

  it('answers UNAVAILABLE when the service’s own database is down, so the caller retries later', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(await answer(Object.assign(new Error('query failed'), { driverError: refused }))).toEqual({
      code: status.UNAVAILABLE,
      message: 'a dependency of this service is unavailable; retry later',
    });
  });

  it('answers anything else INTERNAL, with nothing of the error on the wire', async () => {
    expect(
      await answer(new TypeError("Cannot read properties of undefined (reading 'id') at SELECT * FROM orders")),
    ).toEqual({ code: status.INTERNAL, message: 'internal error' });
  });
});
