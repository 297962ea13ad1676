/** Reports long steps as they happen, with the time elapsed, so a user never stares at a silent terminal. */
export interface Progress {
  step(component: string, message: string): void;
  done(component: string, message: string): void;
}

export function consoleProgress(stream: NodeJS.WritableStream = process.stderr): Progress {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(6);
  return {
    step: (component, message) => stream.write(`[${elapsed()}] ${component.padEnd(22)} ${message}\n`),
    done: (component, message) => stream.write(`[${elapsed()}] ${component.padEnd(22)} ✓ ${message}\n`),
  };
}

export const silentProgress: Progress = { step: () => undefined, done: () => undefined };
