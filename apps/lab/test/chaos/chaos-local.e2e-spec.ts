// The chaos experiments on the local target, in the --quick profile (short load and fault windows, same checks),
// through the real CLI, on ONE lab for all of them (.lab/test-chaos, ports +4600, gateway 12680): the correct
// variants PASS, the naive ones FAIL with the damage in the journal, a sabotaged driver is INCONCLUSIVE (never
// green), and `lab reconcile` names the exact ids of drift planted in the databases.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { labCli } from '@faultline/testing';
import { postgresUrl } from '../../src/infra/infra';
import { resolveLayout } from '../../src/layout/lab-layout';
import type { RunJournal } from '../../src/chaos/runner';
import { repoRoot } from '@faultline/testing';

const env = { LAB_STATE_DIR: '.lab/test-chaos', LAB_PORT_OFFSET: '4600', LAB_GATEWAY_PORT: '' };
const cli = labCli(env);
const layout = resolveLayout(env, repoRoot);

beforeAll(async () => {
  const up = await cli.exec('up');
  if (up.code !== 0) {
    await cli.exec('down');
    throw new Error(`lab up failed:\n${up.stderr}`);
  }
}, 300_000);

afterAll(async () => {
  if (process.env['CHAOS_TEST_KEEP_LAB'] !== '1') await cli.exec('down');
}, 120_000);

async function run(id: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; journal: RunJournal }> {
  const result = await (Object.keys(extraEnv).length ? labCli({ ...env, ...extraEnv }) : cli).exec('chaos', 'run', id, '--quick', '--json');
  let journal: RunJournal;
  try {
    journal = JSON.parse(result.stdout) as RunJournal;
  } catch {
    throw new Error(`lab chaos run ${id} printed no journal (exit ${result.code}):\n${result.stderr.slice(-3000)}`);
  }
  // Every run leaves its report behind.
  expect(existsSync(join(journal.reportDir ?? '', 'report.html'))).toBe(true);
  expect(readFileSync(join(journal.reportDir ?? '', 'report.html'), 'utf8')).toContain('<svg');
  process.stdout.write(`${id}: ${journal.verdict} in ${journal.durationS} s — ${journal.reason}\n${journal.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join('\n')}\n`);
  return { code: result.code, journal };
}

const expectPass = async (id: string) => {
  const { code, journal } = await run(id);
  expect({ verdict: journal.verdict, failing: journal.checks.filter((c) => !c.ok), fired: journal.fault.fired }).toEqual({ verdict: 'PASS', failing: [], fired: true });
  expect(code).toBe(0);
};

describe('correct variants pass', () => {
  it.each(['relay-crash', 'kafka-outage', 'double-submit', 'last-item', 'recs-latency', 'redis-down', 'poison-message'])('%s', expectPass, 300_000);
});

describe('naive variants fail, with the damage shown', () => {
  it('dual-write-crash: orders stuck PENDING with no event, ids listed', async () => {
    const { code, journal } = await run('dual-write-crash');
    expect(journal.fault.fired).toBe(true);
    expect(journal.verdict).toBe('FAIL');
    expect(code).toBe(1);
    const final = journal.checks.find((c) => c.check === 'all-orders-final');
    expect(final?.ok).toBe(false);
    expect(final?.damage?.some((d) => /stuck PENDING/.test(d))).toBe(true);
  }, 300_000);

  it('naive-fallback: the fallback adds load on the orders database', async () => {
    const { code, journal } = await run('naive-fallback');
    expect(journal.fault.fired).toBe(true);
    expect(journal.verdict).toBe('FAIL');
    expect(code).toBe(1);
    const amplified = journal.checks.find((c) => c.check === 'orders-db-load-not-amplified');
    expect(amplified?.ok).toBe(false);
    expect(amplified?.damage?.join(' ')).toMatch(/transactions/);
  }, 300_000);
});

it('a sabotaged run (driver disabled) is INCONCLUSIVE, never green, even though its data checks hold', async () => {
  // last-item: the freeze driver becomes a no-op, so /proc never shows inventory stopped; the data checks still hold
  // (the conditional UPDATE needs no help), which is exactly why an unproven fault must not turn green.
  const { code, journal } = await run('last-item', { LAB_CHAOS_SABOTAGE: 'no-op-driver' });
  expect(journal.sabotaged).toBe(true);
  expect(journal.fault.fired).toBe(false);
  expect(journal.verdict).toBe('INCONCLUSIVE');
  expect(code).toBe(3);
}, 300_000);

describe('lab reconcile', () => {
  it('finds drift planted in the databases and reports the exact ids; exits non-zero', async () => {
    const orders = new Client({ connectionString: postgresUrl(layout, 'orders') });
    const notifications = new Client({ connectionString: postgresUrl(layout, 'notifications') });
    await orders.connect();
    await notifications.connect();
    try {
      const [confirmed] = (await orders.query("SELECT id::text AS id FROM orders WHERE status = 'CONFIRMED' ORDER BY created_at DESC LIMIT 1")).rows;
      expect(confirmed).toBeDefined();
      const note = (await notifications.query('SELECT * FROM notifications WHERE order_id = $1', [confirmed.id])).rows[0];
      const orphan = randomUUID();
      await notifications.query('DELETE FROM notifications WHERE order_id = $1', [confirmed.id]);
      await notifications.query("INSERT INTO notifications (order_id, customer_id, kind) VALUES ($1, 'nobody', 'ORDER_CONFIRMED')", [orphan]);
      try {
        const result = await cli.exec('reconcile', '--json');
        expect(result.code).toBe(1);
        const report = JSON.parse(result.stdout) as { drift: { kind: string; ids: string[] }[] };
        const idsOf = (kind: string) => report.drift.find((d) => d.kind === kind)?.ids ?? [];
        expect(idsOf('final order without a notification')).toContain(confirmed.id);
        expect(idsOf('notification for an order that does not exist')).toEqual([orphan]);
      } finally {
        await notifications.query('DELETE FROM notifications WHERE order_id = $1', [orphan]);
        await notifications.query('INSERT INTO notifications (id, order_id, customer_id, kind, created_at) VALUES ($1, $2, $3, $4, $5)', [note.id, note.order_id, note.customer_id, note.kind, note.created_at]);
      }
    } finally {
      await orders.end();
      await notifications.end();
    }
  }, 120_000);
});
