import { DomainError } from '@faultline/bootstrap';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED';

export interface OrderItem {
  sku: string;
  quantity: number;
}

/** An order as the API shows it (and as an idempotent replay returns it, byte for byte). */
export interface Order {
  id: string;
  customerId: string;
  status: OrderStatus;
  items: OrderItem[];
  createdAt: string;
}

/**
 * Limits of the public contract (docs/architecture.md, "Public REST contract"), checked again here: orders never
 * trusts its caller's validation.
 */
export const MAX_ITEMS = 20;
export const MAX_QUANTITY = 100;
const SKU = /^[A-Za-z0-9-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;

export function checkPlaceOrder(input: {
  customerId: string;
  idempotencyKey: string;
  requestHash: string;
  items: OrderItem[];
}): void {
  const problems: string[] = [];
  if (!input.customerId) problems.push('customer_id is required');
  if (!IDEMPOTENCY_KEY.test(input.idempotencyKey))
    problems.push('idempotency_key must be 1..255 visible ASCII characters');
  if (!/^[0-9a-f]{64}$/.test(input.requestHash)) problems.push('request_hash must be a hex SHA-256');
  if (input.items.length < 1 || input.items.length > MAX_ITEMS)
    problems.push(`items must hold 1..${MAX_ITEMS} entries`);
  input.items.forEach((item, i) => {
    if (!SKU.test(item.sku)) problems.push(`items[${i}].sku is malformed`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY)
      problems.push(`items[${i}].quantity must be 1..${MAX_QUANTITY}`);
  });
  if (problems.length > 0) throw new DomainError('INVALID_ARGUMENT', problems.join('; '));
}

export const orderNotFound = (id: string) => new DomainError('NOT_FOUND', `order ${id} not found`);
export const idempotencyKeyReused = () =>
  new DomainError('FAILED_PRECONDITION', 'this Idempotency-Key was already used with a different request');
export const idempotencyKeyInFlight = () =>
  new DomainError('ABORTED', 'a request with this Idempotency-Key is still being processed');
