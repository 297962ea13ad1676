import { createEvent } from '@faultline/contracts';
import { appendToOutbox, outboxMigrationSql, outboxRecordFromRow, pruneOutbox, replicationSlotName } from './index';

const orderId = '0b9d6f52-3c1e-4a8f-9d2b-6f1e2a3b4c5d';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('outbox', () => {
  it('appends all events in ONE multi-row insert with the version column', async () => {
    const calls: Array<{ sql: string; params?: unknown[] }> = [];
    const db = { query: async (sql: string, params?: unknown[]) => void calls.push({ sql, params }) };
    const a = createEvent(
      'OrderConfirmed',
      { orderId, customerId: 'alice', confirmedAt: '2025-01-31T12:00:00Z' },
      { traceparent },
    );
    const b = createEvent('OrderRejected', {
      orderId,
      customerId: 'alice',
      reason: 'x',
      rejectedAt: '2025-01-31T12:00:00Z',
    });
    await appendToOutbox(db, [a, b]);
    await appendToOutbox(db, []);
    expect(calls).toHaveLength(1);
    expect(calls[0].sql).toMatch(
      /^INSERT INTO outbox \(id, aggregatetype, aggregateid, type, version, payload, tracingspancontext, created_at\) VALUES \(\$1.*\), \(\$9.*\$16\)$/,
    );
    expect(calls[0].params?.slice(0, 8)).toEqual([
      a.metadata.eventId,
      'order',
      orderId,
      'OrderConfirmed',
      1,
      JSON.stringify(a.payload),
      traceparent,
      a.metadata.occurredAt,
    ]);
    expect(calls[0].params?.[14]).toBeNull();
  });

  it('names the slot per source and publishes inserts only', () => {
    expect(replicationSlotName('orders')).toBe('outbox_relay_orders');
    expect(outboxMigrationSql().up.join('\n')).toContain(
      "CREATE PUBLICATION outbox_publication FOR TABLE outbox WITH (publish = 'insert')",
    );
  });

  it('refuses a retention shorter than an hour', async () => {
    await expect(pruneOutbox({ query: async () => [] }, 60_000)).rejects.toThrow(/at least/);
  });

  it('decodes a WAL row (jsonb parsed or text, version as text) and rejects a row without routing data', () => {
    const row = {
      id: orderId,
      aggregatetype: 'order',
      aggregateid: orderId,
      type: 'OrderPlaced',
      version: '1',
      payload: '{"a":1}',
      tracingspancontext: null,
    };
    expect(outboxRecordFromRow(row)).toEqual({ ...row, version: 1, payload: { a: 1 } });
    expect(() => outboxRecordFromRow({ ...row, aggregateid: null })).toThrow(/aggregateid/);
  });
});
