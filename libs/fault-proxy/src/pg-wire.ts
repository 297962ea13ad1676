/**
 * Counts the statements a Postgres client sends, from its bytes on the wire (frontend/backend protocol 3.0): each
 * simple Query ('Q') and each extended-protocol Execute ('E') is one statement. Attached to a proxy's upstream flow,
 * it counts what a service really asked the database, whatever the service says about itself.
 */
export class PgStatementCounter {
  /** Statements seen so far. */
  statements = 0;
  private buffered: Buffer = Buffer.alloc(0);
  /** Until the startup message: untyped messages (an SSL or GSS request may come first, then the startup). */
  private started = false;

  push(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    for (;;) {
      const headerBytes = this.started ? 5 : 4;
      if (this.buffered.length < headerBytes) return;
      const length = this.started ? this.buffered.readInt32BE(1) + 1 : this.buffered.readInt32BE(0);
      if (length < headerBytes || this.buffered.length < length) return;
      if (!this.started) {
        // 196608 is protocol 3.0 (the startup message); 80877103 / 80877104 / 80877102 are SSL, GSS and cancel
        // requests.
        if (length >= 8 && this.buffered.readInt32BE(4) === 196608) this.started = true;
      } else {
        const type = String.fromCharCode(this.buffered[0]);
        if (type === 'Q' || type === 'E') this.statements++;
      }
      this.buffered = this.buffered.subarray(length);
    }
  }
}

/** Statements of every client connection through a proxy: each connection's upstream bytes are its own stream. */
export class PgStatementTally {
  private readonly connections = new Map<number, PgStatementCounter>();

  /** A FaultProxy `observe` hook. */
  readonly observe = (direction: 'upstream' | 'downstream', chunk: Buffer, connection: number): void => {
    if (direction !== 'upstream') return;
    let counter = this.connections.get(connection);
    if (!counter) this.connections.set(connection, (counter = new PgStatementCounter()));
    counter.push(chunk);
  };

  get statements(): number {
    return [...this.connections.values()].reduce((sum, c) => sum + c.statements, 0);
  }
}
