// The naive twins of the chaos catalog on the local target, in the --quick profile, through the real CLI, on one lab
// for all of them (.lab/test-chaos-naive, ports +4400): each FAILs as designed on exactly the checks its yaml names,
// with the damage shown; a sabotaged driver (freeze, proxy, kill, infra stop, burst, attacker) is INCONCLUSIVE, never
// green; and `lab reconcile` names the exact ids of drift planted in the databases. The correct variants run beside
// this on a lab of their own (chaos-local-pass.e2e-spec.ts).
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { postgresUrl } from '../../src/infra/infra';
import { check, useChaosLocalLab } from '../support/chaos-local-lab';

const env = { LAB_STATE_DIR: '.lab/test-chaos-naive', LAB_PORT_OFFSET: '4400', LAB_GATEWAY_PORT: '' };
const { cli, layout, run, expectFailAsDesigned } = useChaosLocalLab(env);

describe('naive twins fail as designed, with the damage shown', () => {
  it('dual-write-crash: orders stuck PENDING with no event, ids listed, lost between the orders database and Kafka', async () => {
    const journal = await expectFailAsDesigned('dual-write-crash');
    expect(check(journal, 'all-orders-final').damage?.some((d) => /stuck PENDING/.test(d))).toBe(true);
    expect(check(journal, 'pipeline-history').damage?.join(' ')).toMatch(
      /lost at bus:placed: \d+ orders, e\.g\. [0-9a-f-]{36}/,
    );
  }, 300_000);

  it("auth-attack-naive: a valid customer token reads other customers' orders by id, every forged token still refused", async () => {
    const journal = await expectFailAsDesigned('auth-attack-naive');
    expect(check(journal, 'no-unauthorized-read').damage?.join(' ')).toMatch(
      /idor-read: GET \/v1\/orders\/[0-9a-f-]{36} → 200, leaked customer chaos-/,
    );
    expect(check(journal, 'refusals-problem-json').damage).toEqual([
      'idor-read: GET /v1/orders/{id} → 200 application/json (expected 404 problem+json)',
    ]);
  }, 300_000);

  it('naive-fallback: the fallback adds load on the orders database', async () => {
    const journal = await expectFailAsDesigned('naive-fallback');
    expect(check(journal, 'orders-db-load-not-amplified').damage?.join(' ')).toMatch(/transactions/);
  }, 300_000);

  it('n-plus-one: 51 statements per listed page on the wire instead of ≤ 2, with the p99 in the damage', async () => {
    const journal = await expectFailAsDesigned('n-plus-one');
    expect(journal.fault.evidence.join(' ')).toMatch(
      /the probe's SELECT 1 over the same edge took [\d.]+ ms during the fault, [\d.]+ ms just before/,
    );
    const queries = check(journal, 'queries-per-request (GET /v1/orders)');
    expect(queries.detail).toMatch(/median 50 orders.*: 5\d\.\d SQL statements per request on the wire/);
    expect(queries.damage?.join(' ')).toMatch(
      /per page of 50 orders instead of at most 2.*p99 of GET \/v1\/orders was \d+ ms/,
    );
  }, 300_000);

  it('last-item-naive: more orders CONFIRMED than there was stock; stock never below 0, so only conservation shows it', async () => {
    const journal = await expectFailAsDesigned('last-item-naive');
    expect(check(journal, 'stock-conservation').damage?.join(' ')).toMatch(
      /SKU-0049: 1 at the start − [2-9] CONFIRMED = -\d+, 0 at the end.*OVERSOLD/,
    );
    expect(check(journal, 'exactly-one-confirmed').detail).toMatch(/[2-9] CONFIRMED/);
  }, 300_000);

  it('transient-failure-no-retry: what arrived during the database blip went to the DLQ and was never notified', async () => {
    const journal = await expectFailAsDesigned('transient-failure-no-retry');
    expect(check(journal, 'one-delivery-per-order').detail).toMatch(
      /[1-9]\d* orders never notified, 0 notified more than once/,
    );
  }, 300_000);

  it('consistency-per-feature-naive: a feed stamped "as of now" claims events it does not hold while the relay is frozen', async () => {
    const journal = await expectFailAsDesigned('consistency-per-feature-naive');
    expect(check(journal, 'as-of-honest').damage?.join(' ')).toMatch(
      /said "as of -?\d+ ms" but [1-9]\d* event\(s\) committed up to \d+ ms before that were not in it/,
    );
  }, 300_000);

  it('relay-outage-wal-capped: the capped slot is lost, the relay says so, reconcile names exactly the lost orders and the repair recovers them', async () => {
    const journal = await expectFailAsDesigned('relay-outage-wal-capped');
    expect(check(journal, 'wal-retained').damage?.join(' ')).toMatch(/the slot was LOST \(its WAL removed\) at \d+ ms/);
    expect(check(journal, 'repair-exact').detail).toMatch(
      /([1-9]\d*) orders lost; lab reconcile named \1 of the run's orders \(precision 1\.00, recall 1\.00\).*a second repair republished 0/,
    );
    // The server's own settings are back once the run is over.
    const orders = new Client({ connectionString: postgresUrl(layout, 'orders') });
    await orders.connect();
    try {
      const { rows } = await orders.query(
        "SELECT current_setting('max_slot_wal_keep_size') AS cap, current_setting('checkpoint_timeout') AS checkpoints",
      );
      expect(rows[0]).toEqual({ cap: '-1', checkpoints: '5min' });
    } finally {
      await orders.end();
    }
    // A 90 s outage loses some 1,400 orders, whose repair runs the saga again for each.
  }, 540_000);

  it('relay-crash-no-inbox: redelivered outcome events are sent to the customer again', async () => {
    const journal = await expectFailAsDesigned('relay-crash-no-inbox');
    expect(check(journal, 'redeliveries-absorbed').damage?.join(' ')).toMatch(
      /redelivered and sent again \(no dedup\): [0-9a-f-]{36} \(2 deliveries\)/,
    );
  }, 300_000);
});

describe('a sabotaged fault is INCONCLUSIVE, never green, even where the data checks hold', () => {
  // The driver becomes a no-op: no SIGSTOP (the kernel never shows the process stopped), no fault on the proxy (the
  // services' chunks are not held and the probe's round trip does not grow), no SIGKILL (the pid never changes), no
  // stop of Postgres (its pid still runs and its port still answers), no burst (the generator offered nothing), no
  // attacker (the gateway answered no attempt).
  it.each(['last-item', 'double-submit', 'relay-crash', 'postgres-outage', 'overload', 'auth-attack'])(
    '%s',
    async (id) => {
      const { code, journal } = await run(id, { LAB_CHAOS_SABOTAGE: 'no-op-driver' });
      expect({ sabotaged: journal.sabotaged, fired: journal.fault.fired, verdict: journal.verdict }).toEqual({
        sabotaged: true,
        fired: false,
        verdict: 'INCONCLUSIVE',
      });
      expect(code).toBe(3);
    },
    300_000,
  );
});

describe('lab reconcile', () => {
  it('finds drift planted in the databases and reports the exact ids; exits non-zero', async () => {
    const orders = new Client({ connectionString: postgresUrl(layout, 'orders') });
    const notifications = new Client({ connectionString: postgresUrl(layout, 'notifications') });
    await orders.connect();
    await notifications.connect();
    try {
      const [confirmed] = (
        await orders.query(
          "SELECT id::text AS id FROM orders WHERE status = 'CONFIRMED' ORDER BY created_at DESC LIMIT 1",
        )
      ).rows;
      expect(confirmed).toBeDefined();
      const note = (await notifications.query('SELECT * FROM notifications WHERE order_id = $1', [confirmed.id]))
        .rows[0];
      const orphan = randomUUID();
      await notifications.query('DELETE FROM notifications WHERE order_id = $1', [confirmed.id]);
      await notifications.query(
        "INSERT INTO notifications (order_id, customer_id, kind) VALUES ($1, 'nobody', 'ORDER_CONFIRMED')",
        [orphan],
      );
      try {
        const result = await cli.exec('reconcile', '--json');
        expect(result.code).toBe(1);
        const report = JSON.parse(result.stdout) as { drift: { kind: string; ids: string[] }[] };
        const idsOf = (kind: string) => report.drift.find((d) => d.kind === kind)?.ids ?? [];
        expect(idsOf('final order without a notification')).toContain(confirmed.id);
        expect(idsOf('notification for an order that does not exist')).toEqual([orphan]);
      } finally {
        await notifications.query('DELETE FROM notifications WHERE order_id = $1', [orphan]);
        await notifications.query(
          'INSERT INTO notifications (id, order_id, customer_id, kind, created_at) VALUES ($1, $2, $3, $4, $5)',
          [note.id, note.order_id, note.customer_id, note.kind, note.created_at],
        );
      }
    } finally {
      await orders.end();
      await notifications.end();
    }
  }, 120_000);
});
