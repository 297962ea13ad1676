import type { Pgoutput } from 'pg-logical-replication';
import { acknowledgeArgument, formatLsn, parseLsn } from './lsn';
import { TransactionBuffer } from './transaction-buffer';

const relation = (name: string) => ({ tag: 'relation', name, schema: 'public' }) as unknown as Pgoutput.MessageRelation;
const row = (id: string) => ({
  id,
  aggregatetype: 'order',
  aggregateid: id,
  type: 'OrderPlaced',
  version: 1,
  payload: {},
  tracingspancontext: null,
});

describe('LSNs', () => {
  it('compares numerically and round-trips', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
  });
  it('hands the library position - 1, because it reports lsn + 1', () => {
    expect(acknowledgeArgument(parseLsn('1/0'))).toBe('0/FFFFFFFF');
    expect(acknowledgeArgument(parseLsn('0/10'))).toBe('0/F');
  });
});

describe('TransactionBuffer', () => {
  it('returns a transaction only at COMMIT, with its outbox rows and end LSN', () => {
    const buffer = new TransactionBuffer();
    expect(buffer.apply({ tag: 'begin', commitLsn: '0/20', commitTime: 0n, xid: 1 })).toBeUndefined();
    expect(buffer.inTransaction).toBe(true);
    buffer.apply({ tag: 'insert', relation: relation('outbox'), new: row('a') });
    buffer.apply({ tag: 'insert', relation: relation('other_table'), new: row('x') });
    buffer.apply({ tag: 'insert', relation: relation('outbox'), new: row('b') });
    const tx = buffer.apply({
      tag: 'commit',
      flags: 0,
      commitLsn: '0/20',
      commitEndLsn: '0/48',
      commitTime: 1_700_000_000_123_456n,
    });
    expect(buffer.inTransaction).toBe(false);
    expect(tx?.records.map((r) => r.id)).toEqual(['a', 'b']);
    expect(tx?.commitEndLsn).toBe(parseLsn('0/48'));
    expect(tx?.commitTimeMs).toBe(1_700_000_000_123.456);
    // Each record carries its transaction's commit time, for the committed-at header.
    expect(tx?.records.map((r) => r.committedAt)).toEqual([1_700_000_000_123, 1_700_000_000_123]);
  });
  it('refuses an insert or commit outside a transaction (a desynchronised stream must restart, not guess)', () => {
    const buffer = new TransactionBuffer();
    expect(() => buffer.apply({ tag: 'insert', relation: relation('outbox'), new: row('a') })).toThrow(/outside/);
    expect(() =>
      buffer.apply({ tag: 'commit', flags: 0, commitLsn: '0/1', commitEndLsn: '0/2', commitTime: 0n }),
    ).toThrow(/without begin/);
  });
});
