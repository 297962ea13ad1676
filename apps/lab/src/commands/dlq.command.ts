// `lab dlq list` and `lab dlq replay`: what the consumers dead-lettered, and putting a fixed message back.
import { readFileSync } from 'node:fs';
import { dlqTopic, EVENT_TOPICS } from '@faultline/contracts';
import { listDlq, parseDlqId, replayDlq, type DlqEntry } from '@faultline/messaging';
import { kafkaBrokers } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';

/** The lab's dead-letter topics: one per event topic. */
export const DLQ_TOPICS: readonly string[] = EVENT_TOPICS.map((topic) => dlqTopic(topic));

/** Every dead-lettered message, as a table (id, original topic, type, event id, error) or as JSON. */
export async function dlqListCommand(layout: LabLayout, json: boolean): Promise<string> {
  let entries: DlqEntry[];
  try {
    entries = await listDlq(kafkaBrokers(layout), DLQ_TOPICS);
  } catch (error) {
    throw new LabError('kafka', `cannot read the dead-letter topics: ${(error as Error).message}; is the lab up?`);
  }
  if (json) return JSON.stringify({ count: entries.length, entries }, null, 2);
  if (entries.length === 0) return `No dead-lettered messages (${DLQ_TOPICS.join(', ')}).`;
  const rows = entries.map((e) => [e.id, e.originalTopic, e.type ?? '-', e.eventId ?? '-', oneLine(e.error.message)]);
  const header = ['ID', 'TOPIC', 'TYPE', 'EVENT ID', 'ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [header, ...rows].map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', `${entries.length} message(s). Replay one: lab dlq replay <id> [--payload fixed.json]`].join(
    '\n',
  );
}

/** Republishes one message to its original topic, with the payload from `payloadFile` (JSON) when given. */
export async function dlqReplayCommand(layout: LabLayout, id: string, payloadFile?: string): Promise<string> {
  try {
    parseDlqId(id);
  } catch (error) {
    throw new LabError('dlq', (error as Error).message);
  }
  let payload: unknown;
  if (payloadFile !== undefined) {
    try {
      payload = JSON.parse(readFileSync(payloadFile, 'utf8'));
    } catch (error) {
      throw new LabError('dlq', `--payload ${payloadFile}: ${(error as Error).message}`);
    }
  }
  try {
    const sent = await replayDlq(kafkaBrokers(layout), id, payload === undefined ? {} : { payload });
    return `Replayed ${id} to ${sent.topic} (key ${sent.key ?? '-'}, event ${sent.headers['event-id'] ?? '-'}${payload === undefined ? ', original payload' : ', corrected payload'}).`;
  } catch (error) {
    throw new LabError('dlq', `cannot replay ${id}: ${(error as Error).message}`);
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
