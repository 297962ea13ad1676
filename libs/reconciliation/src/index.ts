export {
  findOrderDrift,
  ORDER_DRIFT_KINDS,
  ORDER_DRIFT_QUERIES,
  type OrderDriftFinding,
  type OrderDriftKind,
} from './order-drift';
export { ARCHIVED_CUSTOMER_PATTERN, ARCHIVED_CUSTOMER_PREFIX } from './archived-orders';
export { repairEventId, repairOrders, type RepairedEvent } from './order-repair';
