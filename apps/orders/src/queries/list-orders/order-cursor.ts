import { DomainError } from '@faultline/bootstrap';

/** Position after the last order of a page: orders are listed newest first by (created_at, id). */
export interface OrderCursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

export function decodeCursor(raw: string): OrderCursor | undefined {
  if (!raw) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof createdAt === 'string' &&
      !Number.isNaN(Date.parse(createdAt)) &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/.test(id)
    ) {
      return { createdAt, id };
    }
  } catch {
    // fall through: a cursor we did not make
  }
  throw new DomainError('INVALID_ARGUMENT', 'cursor is not one this service issued');
}
