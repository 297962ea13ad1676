// Which failures are the world's (the database restarting, a connection cut, a deadlock) and clear up by themselves,
// and which are the request's or the message's (a value the database refuses, a bug): a consumer retries the first
// kind for as long as the outage lasts and dead-letters the second after bounded retries; a gRPC server answers the
// first UNAVAILABLE (retry later), the second INTERNAL.

/** Node's socket errors: the dependency is unreachable or went away mid-call. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Postgres SQLSTATEs that say nothing about the statement: class 08 (connection exception), 57P01-57P03 (the server
 * shutting down or starting), 53300 (too many connections), 40001 (serialization failure) and 40P01 (deadlock),
 * which the same transaction retried later gets past.
 */
const PG_TRANSIENT = (code: string) =>
  code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code);

const MESSAGES = [
  /Connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /the database system is (starting up|shutting down)/i,
];

export function isTransientError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const x = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (
      typeof x.code === 'string' &&
      (NETWORK_CODES.has(x.code) || (/^[0-9A-Z]{5}$/.test(x.code) && PG_TRANSIENT(x.code)))
    )
      return true;
    if (typeof x.message === 'string' && MESSAGES.some((m) => m.test(x.message as string))) return true;
    // TypeORM wraps the driver's error; Node wraps causes.
    e = x.driverError ?? x.cause;
  }
  return false;
}
