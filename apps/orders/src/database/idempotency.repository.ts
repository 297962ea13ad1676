import { Injectable } from '@nestjs/common';
import { queryRows, type SqlExecutor } from '@faultline/database';
import type { Order } from '../domain/order';

/** What a first request with an Idempotency-Key was answered, kept to answer its retries the same way. */
export interface StoredAnswer {
  requestHash: string;
  responseStatus: number;
  order: Order;
}

/** Idempotency keys, per customer, inside the caller's transaction (`tx`). */
@Injectable()
export class IdempotencyRepository {
  /**
   * A transaction-scoped advisory lock on (customer, key), taken without waiting: false when another transaction
   * holds it. The customer id (a token `sub`) cannot contain ':', so the pair is unambiguous.
   */
  async tryLock(tx: SqlExecutor, customerId: string, key: string): Promise<boolean> {
    const [row] = await queryRows<{ locked: boolean }>(
      tx,
      "SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS locked",
      [customerId, key],
    );
    return row.locked;
  }

  async find(tx: SqlExecutor, customerId: string, key: string): Promise<StoredAnswer | undefined> {
    const [row] = await queryRows<{ request_hash: string; response_status: number; response_body: Order }>(
      tx,
      'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE customer_id = $1 AND key = $2',
      [customerId, key],
    );
    return row && { requestHash: row.request_hash, responseStatus: row.response_status, order: row.response_body };
  }

  async save(tx: SqlExecutor, customerId: string, key: string, answer: StoredAnswer, ttlHours: number): Promise<void> {
    await tx.query(
      `INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id, response_status, response_body, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))`,
      [
        customerId,
        key,
        answer.requestHash,
        answer.order.id,
        answer.responseStatus,
        JSON.stringify(answer.order),
        ttlHours,
      ],
    );
  }
}
