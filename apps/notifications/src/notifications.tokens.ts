/** Injection tokens and names of the notifications service. */
export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');
/** Its consumer group, and its name in the inbox and in applied_until. */
export const NOTIFICATIONS_CONSUMER = 'notifications';
