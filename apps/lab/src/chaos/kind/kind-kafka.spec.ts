import { EVENT_HEADERS } from '@faultline/contracts';
import { dlqEntryOf } from '@faultline/messaging';
import { busMessageOf } from '../bus';
import { kubectlPlan, topicsPattern } from './kind-chaos-plan';
import { kindReadTopics, parseConsoleRecords, parseOffsets } from './kind-kafka';
import type { Kubectl } from './kubectl';

// Lines as kafka-console-consumer.sh 3.9.1 printed them with CONSOLE_RECORD_FORMAT (captured from a real broker):
// a record with no header, key or value, and a dead letter whose JSON error header holds `,` and `:`.
const PRINTED = [
  'CreateTime:1796278427777\tPartition:0\tOffset:0\tNO_HEADERS\tnull\t{"no":"headers"}',
  'CreateTime:1796278427777\tPartition:0\tOffset:1\tdlq-error:{"message":"bad, very: bad","topic":"orders.events"}|~|event-id:e2\tk2\tnull',
].join('\n');

describe('Kafka on kind, through its CLI tools in the kafka pod', () => {
  it('reads kafka-get-offsets.sh output as positions, ignoring anything else it prints', () => {
    expect(
      parseOffsets('log4j:WARN no appenders\norders.events:0:12\norders.events:2:0\ninventory.events:1:7\n'),
    ).toEqual({ 'orders.events': { 0: '12', 2: '0' }, 'inventory.events': { 1: '7' } });
  });

  it('asks for exactly the lab topics: the pattern is anchored and its dots are literal', () => {
    const pattern = new RegExp(topicsPattern(['orders.events', 'inventory.events']));
    expect(['orders.events', 'inventory.events'].every((t) => pattern.test(t))).toBe(true);
    expect(['orders.events.dlq', 'ordersXevents', '__consumer_offsets'].some((t) => pattern.test(t))).toBe(false);
  });

  it('parses the console consumer’s records: null key and value, headers split on the lab’s separator, not on JSON commas', () => {
    const [plain, letter] = parseConsoleRecords('orders.events.dlq', PRINTED);
    expect(plain).toEqual({
      topic: 'orders.events.dlq',
      partition: 0,
      offset: '0',
      key: null,
      value: '{"no":"headers"}',
      headers: {},
      timestamp: 1796278427777,
    });
    expect(letter.headers).toEqual({
      'dlq-error': '{"message":"bad, very: bad","topic":"orders.events"}',
      'event-id': 'e2',
    });
    // The same mapping as the local target's kafkajs reader from here on.
    expect(dlqEntryOf(letter)).toMatchObject({
      id: 'orders.events.dlq:0:1',
      originalTopic: 'orders.events',
      eventId: 'e2',
      key: 'k2',
      error: { message: 'bad, very: bad' },
    });
    expect(() => parseConsoleRecords('orders.events', 'Processed a total of 2 messages')).toThrow(
      'not a record of orders.events',
    );
  });

  it('reads each partition from the run’s start up to the end seen now, and only those records', async () => {
    const calls: string[][] = [];
    const headers = `${EVENT_HEADERS.eventId}:ev-5|~|${EVENT_HEADERS.eventType}:OrderPlaced`;
    const kubectl = {
      output: async (args: string[]) => {
        calls.push(args);
        if (args.includes('kafka-get-offsets.sh') || args.some((a) => a.endsWith('kafka-get-offsets.sh'))) {
          return args.includes('-1')
            ? 'orders.events:0:7\norders.events:1:3\n'
            : 'orders.events:0:2\norders.events:1:0\n';
        }
        const offset = args[args.indexOf('--offset') + 1];
        // A console consumer that overshoots (records appended meanwhile) must not add records past the end.
        return (
          [5, 6, 7].map((o) => `CreateTime:1000\tPartition:0\tOffset:${o}\t${headers}\torder-1\t{}`).join('\n') +
          (offset === '5' ? '\n' : '')
        );
      },
    } as unknown as Kubectl;
    const records = await kindReadTopics(kubectl, ['orders.events'], { 'orders.events': { 0: '5', 1: '3' } });
    expect(records.map((r) => r.offset)).toEqual(['5', '6']);
    expect(busMessageOf(records[0])).toMatchObject({
      topic: 'orders.events',
      key: 'order-1',
      eventId: 'ev-5',
      type: 'OrderPlaced',
    });
    const consumed = calls.filter((c) => c.some((a) => a.endsWith('kafka-console-consumer.sh')));
    // Partition 1 is empty since the run started (3 → 3): not read at all.
    expect(consumed).toEqual([kubectlPlan.kafkaConsume('orders.events', 0, '5', 2)]);
  });
});
