// What a dead-lettered message carries: the original key, value and headers, plus a `dlq-error` header saying why,
// after how many attempts, and where it came from (so `lab dlq replay` knows where to send it back).
import { EVENT_HEADERS, EventValidationError, dlqTopic } from '@faultline/contracts';

export interface DlqError {
  message: string;
  /** 'validation' never gets better by retrying; 'handler' failed maxAttempts times. */
  kind: 'validation' | 'handler';
  attempts: number;
  consumer: string;
  topic: string;
  partition: number;
  offset: string;
  /** The offending fields of an EventValidationError. */
  fields?: string[];
  failedAt: string;
}

export interface RawMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export function describeFailure(error: unknown): { message: string; fields?: string[] } {
  if (error instanceof EventValidationError) return { message: error.message, fields: error.fields };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}

/** The DLQ copy of a message: same key, value and headers (any older dlq-error replaced), on `<topic>.dlq`. */
export function buildDlqMessage(
  original: RawMessage,
  error: DlqError,
): { topic: string; key: string | null; value: string | null; headers: Record<string, string> } {
  return {
    topic: dlqTopic(error.topic),
    key: original.key,
    value: original.value,
    headers: { ...original.headers, [EVENT_HEADERS.dlqError]: JSON.stringify(error) },
  };
}

/** Reads a `dlq-error` header; tolerant: a header written by hand may be plain text. */
export function parseDlqError(header: string | undefined): Partial<DlqError> & { message: string } {
  if (!header) return { message: '(no dlq-error header)' };
  try {
    const parsed = JSON.parse(header) as Partial<DlqError>;
    return { ...parsed, message: typeof parsed.message === 'string' ? parsed.message : header };
  } catch {
    return { message: header };
  }
}
