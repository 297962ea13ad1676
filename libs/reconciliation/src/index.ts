export { findOrderDrift, ORDER_DRIFT_KINDS, type OrderDriftFinding, type OrderDriftKind } from './order-drift';
