// The one error every event-parsing failure becomes: unknown type, unknown version, bad headers or a payload that
// fails its schema. Consumers route it to `<topic>.dlq` (retrying cannot fix it), so it says exactly which fields
// were wrong and serializes cleanly into the DLQ record.
export interface EventValidationIssue {
  /** Dotted path of the offending field: 'type', 'version', 'headers.event-id', 'payload.items.0.quantity'. */
  readonly path: string;
  readonly message: string;
}

export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';

  constructor(
    /** The event type as received (may be unknown or empty). */
    readonly eventType: string,
    /** The event version as received (may be unknown or malformed). */
    readonly eventVersion: string,
    readonly issues: readonly EventValidationIssue[],
  ) {
    super(
      `invalid event ${eventType || '(no type)'} v${eventVersion || '?'}: ` +
        issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
    );
  }

  /** The offending field paths, without duplicates, in the order found. */
  get fields(): string[] {
    return [...new Set(this.issues.map((issue) => issue.path))];
  }

  toJSON(): { name: string; message: string; eventType: string; eventVersion: string; issues: EventValidationIssue[] } {
    return {
      name: this.name,
      message: this.message,
      eventType: this.eventType,
      eventVersion: this.eventVersion,
      issues: [...this.issues],
    };
  }
}
