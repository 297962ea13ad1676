export * from './topics';
export * from './kafka-headers';
export * from './event-fields';
export * from './orders.events';
export * from './inventory.events';
export * from './event-validation.error';
export * from './event-registry';
export * from './event-envelope';
