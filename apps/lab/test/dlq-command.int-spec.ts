// `lab dlq list` / `lab dlq replay` against the test lab's real orders.events.dlq: a poison message shows up with
// its error, and replaying it with a fixed payload puts it back on orders.events.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createEvent, EVENT_HEADERS, toEventHeaders } from '@faultline/contracts';
import { dlqListCommand, dlqReplayCommand } from '../src/commands/dlq.command';
import { kafkaBrokers } from '../src/infra/infra';
import { resolveLayout } from '../src/layout/lab-layout';
import { LabError } from '../src/process/lab-error';

const stateDir = process.env['FAULTLINE_TEST_STATE_DIR'];
if (!stateDir) throw new Error('FAULTLINE_TEST_STATE_DIR is not set: run with --selectProjects integration');
const layout = resolveLayout({
  ...process.env,
  LAB_STATE_DIR: stateDir,
  LAB_PORT_OFFSET: process.env['FAULTLINE_TEST_PORT_OFFSET'],
});

describe('lab dlq list / replay', () => {
  const kafka = new Kafka({
    clientId: 'dlq-command-int-spec',
    brokers: kafkaBrokers(layout),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  const dir = mkdtempSync(join(tmpdir(), 'dlq-command-'));

  beforeAll(() => producer.connect());
  afterAll(async () => {
    await producer.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a poison message with its error and replays it, fixed, to orders.events', async () => {
    const fixed = createEvent('OrderPlaced', {
      orderId: randomUUID(),
      customerId: 'dlq-cli',
      items: [{ sku: 'SKU-0001', quantity: 1 }],
      placedAt: new Date().toISOString(),
    });
    const dlqError = {
      message: 'invalid event OrderPlaced v1: payload.items: Too small',
      kind: 'validation',
      attempts: 0,
      topic: 'orders.events',
      partition: 0,
      offset: '7',
      fields: ['payload.items'],
    };
    await producer.send({
      topic: 'orders.events.dlq',
      acks: -1,
      messages: [
        {
          key: fixed.key,
          value: JSON.stringify({ ...fixed.payload, items: [] }),
          headers: { ...toEventHeaders(fixed.metadata), [EVENT_HEADERS.dlqError]: JSON.stringify(dlqError) },
        },
      ],
    });

    const listed = JSON.parse(await dlqListCommand(layout, true)) as {
      entries: Array<{ id: string; eventId: string; error: { message: string }; originalTopic: string }>;
    };
    const entry = listed.entries.find((e) => e.eventId === fixed.metadata.eventId);
    expect(entry).toMatchObject({ originalTopic: 'orders.events', error: { message: dlqError.message } });
    const table = await dlqListCommand(layout, false);
    expect(table).toContain(entry?.id);
    expect(table).toContain('payload.items: Too small');

    // Watch orders.events from now on for the replayed message.
    const consumer = kafka.consumer({ groupId: `dlq-cli-${randomUUID()}` });
    const received = new Promise<{ value: string; headers: Record<string, string> }>((resolve) => {
      void consumer.connect().then(async () => {
        await consumer.subscribe({ topic: 'orders.events', fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            if (message.headers?.[EVENT_HEADERS.eventId]?.toString() !== fixed.metadata.eventId) return;
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
            resolve({ value: message.value?.toString() ?? '', headers });
          },
        });
      });
    });
    try {
      const file = join(dir, 'fixed.json');
      writeFileSync(file, JSON.stringify(fixed.payload));
      expect(await dlqReplayCommand(layout, entry?.id as string, file)).toMatch(
        /^Replayed orders\.events\.dlq:\d+:\d+ to orders\.events .*corrected payload/,
      );
      const message = await Promise.race([
        received,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not replayed within 60 s')), 60000)),
      ]);
      expect(JSON.parse(message.value)).toEqual(fixed.payload);
      expect(message.headers[EVENT_HEADERS.dlqError]).toBeUndefined();
      expect(message.headers[EVENT_HEADERS.eventType]).toBe('OrderPlaced');
    } finally {
      await consumer.disconnect();
    }

    await expect(dlqReplayCommand(layout, 'nonsense')).rejects.toBeInstanceOf(LabError);
    await expect(dlqReplayCommand(layout, entry?.id as string, join(dir, 'missing.json'))).rejects.toThrow(/--payload/);
  });
});
