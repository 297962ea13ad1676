// The operator's step of dlq-replay, the same on both targets (kafkajs locally; Kafka's console tools in the kafka
// pod on kind): the handler poison's dead letter, found by its event id on the DLQ topic, has its payload corrected
// (the customer id Postgres refused) and is put back on its topic `times` times, as `lab dlq replay` does; then the
// step waits until the notifications group has committed past the last replay, and counts the effect in the
// notifications database.
import { setTimeout as sleep } from 'node:timers/promises';
import { dlqTopic } from '@faultline/contracts';
import { type DlqEntry } from '@faultline/messaging';
import type { Poison, ReplayFacts } from './checks';
import type { SqlQuery } from './evidence';
import { correctedPoison } from './poisons';

export interface ReplayPort {
  deadLetters(topic: string): Promise<DlqEntry[]>;
  /** Puts the corrected message back on the entry's original topic `times` times; where each landed. */
  replay(
    entry: DlqEntry,
    payload: unknown,
    times: number,
  ): Promise<{ topic: string; partition: number; offset: string }[]>;
  /** The group's committed offset per partition of `topic`. */
  committed(group: string, topic: string): Promise<Record<number, string>>;
  sql: SqlQuery;
}

/** How long the consumer may take to get past the replays (it retries nothing: the payload is fixed). */
const REPLAY_CONSUMED_TIMEOUT_MS = 30_000;

export async function replayHandlerPoison(
  port: ReplayPort,
  poisons: Poison[],
  topic: string,
  times: number,
  log: (m: string) => void,
): Promise<ReplayFacts | undefined> {
  const poison = poisons.find((p) => p.kind === 'handler');
  if (!poison) return undefined;
  const letter = (await port.deadLetters(dlqTopic(topic))).find((e) => e.eventId === poison.eventId);
  if (!letter?.value || !letter.key) {
    log(`the handler poison ${poison.eventId} is not on ${dlqTopic(topic)}: nothing to replay`);
    return undefined;
  }
  const landed = await port.replay(letter, correctedPoison(letter.value), times);
  const replays = landed.map((r) => `${r.topic}:${r.partition}:${r.offset}`);
  log(
    `replayed ${letter.id} ${times} times with its payload corrected: ${replays.join(', ') || 'landing offsets unknown'}`,
  );
  const last = landed[landed.length - 1];
  const deadline = Date.now() + REPLAY_CONSUMED_TIMEOUT_MS;
  let consumed = false;
  while (last && !consumed && Date.now() < deadline) {
    const committed = (await port.committed('notifications', last.topic))[last.partition];
    consumed = committed !== undefined && BigInt(committed) > BigInt(last.offset);
    if (!consumed) await sleep(250);
  }
  const [d] = await port.sql('notifications', 'SELECT count(*)::int AS n FROM deliveries WHERE order_id = $1', [
    letter.key,
  ]);
  const [i] = await port.sql('notifications', 'SELECT count(*)::int AS n FROM inbox WHERE event_id = $1', [
    poison.eventId,
  ]);
  return {
    dlqId: letter.id,
    orderId: letter.key,
    eventId: poison.eventId,
    replays,
    consumed,
    deliveries: Number(d?.['n'] ?? 0),
    inboxRows: Number(i?.['n'] ?? 0),
  };
}
