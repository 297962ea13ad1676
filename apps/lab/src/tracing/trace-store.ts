// The local target's trace backend: the OTLP receiver, hosted by the supervisor, appending every span as one JSON
// line to <state>/traces/spans-<date>.jsonl, where `lab trace` reads them. Jaeger is the kind target's backend.
import { appendFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';

/** The receiver's port before the lab's offset (the collector's OTLP/HTTP port is 4318; this is the lab's "4318"). */
export const OTLP_BASE_PORT = 14318;
/** Days of span files kept; a lab is for watching what just happened, not for history. */
const KEEP_DAYS = 2;

export function otlpPort(layout: LabLayout): number {
  return OTLP_BASE_PORT + layout.portOffset;
}

export function traceStoreDir(layout: LabLayout): string {
  return join(layout.stateDir, 'traces');
}

/** Off only when LAB_TRACES=off: then services get no endpoint and export nothing. */
export function traceStoreEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['LAB_TRACES'] ?? 'on').toLowerCase() !== 'off';
}

/** What a service's environment gets so it exports to the store (nothing when the store is off). */
export function tracingEnv(layout: LabLayout, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return traceStoreEnabled(env) ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort(layout)}` } : {};
}

/**
 * Starts the store; never throws: a busy port or an unwritable folder is logged and the lab runs without traces
 * (services then fail to export and say so in their logs, nothing else changes).
 */
export async function startTraceStore(
  layout: LabLayout,
  log: (message: string) => void,
): Promise<OtlpReceiver | undefined> {
  if (!traceStoreEnabled()) return undefined;
  const dir = traceStoreDir(layout);
  try {
    mkdirSync(dir, { recursive: true });
    const cutoff = new Date(Date.now() - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
    for (const file of readdirSync(dir)) {
      const day = /^spans-(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(file)?.[1];
      if (day && day < cutoff) rmSync(join(dir, file), { force: true });
    }
    const receiver = await startOtlpReceiver(otlpPort(layout), (spans) => {
      if (spans.length === 0) return;
      const file = join(dir, `spans-${new Date().toISOString().slice(0, 10)}.jsonl`);
      appendFileSync(file, spans.map((span) => JSON.stringify(span)).join('\n') + '\n');
    });
    log(`trace store: OTLP/HTTP JSON on ${receiver.endpoint}/v1/traces → ${dir}`);
    return receiver;
  } catch (error) {
    log(`trace store: not started (${(error as Error).message}); services will not have traces`);
    return undefined;
  }
}
