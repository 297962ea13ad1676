/**
 * Archived orders (`lab migrate seed`: history from before the event pipeline, so the online-migration lab has a
 * table large enough to matter) belong to customers `archive-NNNN`. They have no events, reservations or
 * notifications by design, so reconciliation leaves them out.
 */
export const ARCHIVED_CUSTOMER_PREFIX = 'archive-';
/** For `customer_id LIKE $1`. */
export const ARCHIVED_CUSTOMER_PATTERN = `${ARCHIVED_CUSTOMER_PREFIX}%`;
