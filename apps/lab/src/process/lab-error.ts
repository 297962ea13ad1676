/**
 * A failure the user can act on: it names the component that failed and the log file to read. The CLI prints it
 * as one line and exits non-zero; anything else is a bug and is printed with its stack.
 */
export class LabError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly logFile?: string,
  ) {
    super(message);
    this.name = 'LabError';
  }

  describe(): string {
    return `${this.component}: ${this.message}${this.logFile ? ` (log: ${this.logFile})` : ''}`;
  }
}
