/** Injection tokens of the orders service. */
export const ORDERS_CONFIG = Symbol('ORDERS_CONFIG');
/** The Kafka producer of the naive dual-write variant; null with the outbox (the default). */
export const DUAL_WRITE_PRODUCER = Symbol('DUAL_WRITE_PRODUCER');
