/**
 * Schema changes on a busy table must never queue behind a long transaction while holding everybody else up: a DDL
 * statement waiting for its ACCESS EXCLUSIVE lock blocks every later query on the table, even ones it would not
 * conflict with. So each statement runs with a short `lock_timeout` and, when it could not get its lock in time,
 * gives up, lets the queue drain and tries again: the worst wait it inflicts on the application is about that
 * timeout, instead of "as long as the slowest transaction in flight".
 */
export interface GuardOptions {
  /** How long the statement may wait for its lock before giving up (and releasing the queue behind it). */
  lockTimeoutMs: number;
  /** Attempts before the statement fails for good. */
  attempts: number;
  /** Pause before attempt n (n ≥ 2) is `backoffMs * (n - 1)`, capped at 2 s. */
  backoffMs: number;
  /** Told about each attempt that timed out. */
  onRetry?: (info: { statement: string; attempt: number; attempts: number }) => void;
}

export const DEFAULT_GUARD: GuardOptions = { lockTimeoutMs: 100, attempts: 50, backoffMs: 50 };

/** SQLSTATE 55P03 lock_not_available: what `lock_timeout` raises. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Runs `statement` on a session (outside any transaction) under `lock_timeout`, retrying while the lock is busy. */
export async function runGuarded(
  query: (sql: string) => Promise<unknown>,
  statement: string,
  options: Partial<GuardOptions> = {},
): Promise<void> {
  const o = { ...DEFAULT_GUARD, ...options };
  for (let attempt = 1; ; attempt++) {
    await query(`SET lock_timeout = '${Math.max(1, Math.round(o.lockTimeoutMs))}ms'`);
    try {
      await query(statement);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE || attempt >= o.attempts) throw error;
      o.onRetry?.({ statement, attempt, attempts: o.attempts });
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, o.backoffMs * attempt)));
    } finally {
      await query('RESET lock_timeout');
    }
  }
}
