/**
 * Which columns of `orders` hold an order's line count right now. The online migration (online-migration/, its
 * SchemaReleaseService) implements it; the write and read paths see only this port. Ask inside the transaction, after
 * BEGIN, so the answer holds for the whole transaction.
 */
export interface OrderColumns {
  /** The INSERT of a new order: $1 id, $2 customer, $3 status, $4 line count, $5 time. */
  insertOrderSql(): string;
  /** The column an order's line count is read from. */
  lineCountColumn(): string;
}

export const ORDER_COLUMNS = Symbol('ORDER_COLUMNS');
