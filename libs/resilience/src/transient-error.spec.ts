import { isTransientError } from './transient-error';

describe('isTransientError', () => {
  it('takes connection failures and retryable SQLSTATEs for transient, however they are wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isTransientError(refused)).toBe(true);
    expect(
      isTransientError(
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      ),
    ).toBe(true);
    expect(
      isTransientError(
        Object.assign(new Error('query failed'), { driverError: { code: '40P01', message: 'deadlock detected' } }),
      ),
    ).toBe(true);
    expect(isTransientError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isTransientError(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })),
    ).toBe(true);
  });

  it('takes what is wrong with the message itself for permanent', () => {
    expect(
      isTransientError(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })),
    ).toBe(false);
    expect(isTransientError(Object.assign(new Error('null value in column'), { code: '23502' }))).toBe(false);
    expect(isTransientError(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });
});
