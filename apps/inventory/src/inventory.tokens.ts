/** Injection tokens of the inventory service. */
export const INVENTORY_CONFIG = Symbol('INVENTORY_CONFIG');
