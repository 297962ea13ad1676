import type { OrdersV1 } from '@faultline/contracts';
import type { OrderBody } from './orders.http-schema';

/** An order as REST shows it. A status the REST contract does not know (UNSPECIFIED) is a dependency bug. */
export function toOrderBody(order: OrdersV1.Order): OrderBody {
  return {
    id: order.id,
    customerId: order.customerId,
    status: order.status as OrderBody['status'],
    items: order.items.map((item) => ({ sku: item.sku, quantity: item.quantity })),
    createdAt: order.createdAt,
  };
}
