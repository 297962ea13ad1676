// The chaos experiments on the local target, in the --quick profile (short load and fault windows, same checks),
// through the real CLI, on ONE lab for all of them (.lab/test-chaos, ports +4600, gateway 12680): the correct
// variants PASS with no check inconclusive (trace assertions included), each naive twin FAILs as designed on exactly
// the checks it names, a sabotaged driver (freeze, proxy, kill, infra stop, burst) is INCONCLUSIVE (never green), `lab
// reconcile` names the exact ids of drift planted in the databases, and so do the orders service's reconciliation job's
// metric and log (the job runs every second in this lab).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually, labCli } from '@faultline/testing';
import { metricValue } from '../../src/chaos/checks';
import { ledgerFile } from '../../src/chaos/fault-ledger';
import { processState } from '../../src/process/pid-file';
import { postgresUrl } from '../../src/infra/infra';
import { resolveLayout } from '../../src/layout/lab-layout';
import type { RunJournal } from '../../src/chaos/journal';
import { repoRoot } from '@faultline/testing';

const env = { LAB_STATE_DIR: '.lab/test-chaos', LAB_PORT_OFFSET: '4600', LAB_GATEWAY_PORT: '' };
const cli = labCli(env);
const layout = resolveLayout(env, repoRoot);

beforeAll(async () => {
  const up = await cli.exec('up', '--set', 'orders.RECONCILIATION_INTERVAL_MS=1000');
  if (up.code !== 0) {
    await cli.exec('down');
    throw new Error(`lab up failed:\n${up.stderr}`);
  }
}, 300_000);

afterAll(async () => {
  if (process.env['CHAOS_TEST_KEEP_LAB'] !== '1') await cli.exec('down');
}, 120_000);

describe('the orders reconciliation job', () => {
  it('exports planted drift as reconciliation_drift{kind} with the ids in its log, and returns to the value before once removed', async () => {
    const orders = new Client({ connectionString: postgresUrl(layout, 'orders') });
    await orders.connect();
    const metrics = `http://127.0.0.1:${layout.ports.ordersHttp}/metrics`;
    const drift = async () => {
      const text = await (await fetch(metrics)).text();
      if (!text.includes('reconciliation_runs_total')) return undefined;
      return {
        stuck: metricValue(text, 'reconciliation_drift', { kind: 'stuck_pending' }),
        final: metricValue(text, 'reconciliation_drift', { kind: 'final_without_outbox_event' }),
        runs: metricValue(text, 'reconciliation_runs_total', { outcome: 'ok' }),
      };
    };
    // A completed run before planting: its values are the baseline (0 on a fresh lab, where this test runs first).
    const first = await eventually(
      'the job to have run once',
      async () => ((await drift())?.runs ?? 0) >= 1 && drift(),
      30_000,
    );
    const before = await eventually(
      'a run after the first',
      async () => {
        const now = await drift();
        return now && now.runs > first.runs && now;
      },
      30_000,
    );
    const stuck = randomUUID();
    const final = randomUUID();
    try {
      await orders.query(
        "INSERT INTO customers (id, name) VALUES ('reconcile-test', 'Reconcile Test') ON CONFLICT (id) DO NOTHING",
      );
      // An order PENDING for an hour (its event was lost), and a CONFIRMED one whose events never entered the outbox.
      await orders.query(
        "INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, 'reconcile-test', 'PENDING', 1, now() - interval '1 hour', now() - interval '1 hour')",
        [stuck],
      );
      await orders.query(
        "INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, 'reconcile-test', 'CONFIRMED', 1, now(), now())",
        [final],
      );
      const planted = await eventually(
        'the planted drift in the metric',
        async () => {
          const now = await drift();
          return now && now.stuck === before.stuck + 1 && now.final === before.final + 1 && now;
        },
        30_000,
      );
      expect(planted).toMatchObject({ stuck: before.stuck + 1, final: before.final + 1 });
      const logs = (await cli.exec('logs', 'orders', '-n', '400')).stdout
        .split('\n')
        .filter((l) => l.includes('reconciliation: drift:'));
      expect(logs.some((l) => l.includes('"kind":"stuck_pending"') && l.includes(stuck))).toBe(true);
      expect(logs.some((l) => l.includes('"kind":"final_without_outbox_event"') && l.includes(final))).toBe(true);
    } finally {
      await orders.query('DELETE FROM orders WHERE id = ANY($1::uuid[])', [[stuck, final]]);
    }
    const after = await eventually(
      'the drift gone from the metric',
      async () => {
        const now = await drift();
        return now && now.stuck === before.stuck && now.final === before.final && now;
      },
      30_000,
    );
    process.stdout.write(
      `reconciliation_drift: before ${JSON.stringify(before)}, after removal ${JSON.stringify(after)}\n`,
    );
    await orders.end();
  }, 120_000);
});

async function run(id: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; journal: RunJournal }> {
  const result = await (Object.keys(extraEnv).length ? labCli({ ...env, ...extraEnv }) : cli).exec(
    'chaos',
    'run',
    id,
    '--quick',
    '--json',
  );
  let journal: RunJournal;
  try {
    journal = JSON.parse(result.stdout) as RunJournal;
  } catch {
    throw new Error(`lab chaos run ${id} printed no journal (exit ${result.code}):\n${result.stderr.slice(-3000)}`);
  }
  // Every run leaves its report behind.
  expect(existsSync(join(journal.reportDir ?? '', 'report.html'))).toBe(true);
  expect(readFileSync(join(journal.reportDir ?? '', 'report.html'), 'utf8')).toContain('<svg');
  process.stdout.write(
    `${id}: ${journal.verdict} in ${journal.durationS} s — ${journal.reason}\n${journal.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`).join('\n')}\n`,
  );
  return { code: result.code, journal };
}

const expectPass = async (id: string) => {
  const { code, journal } = await run(id);
  expect({
    verdict: journal.verdict,
    failing: journal.checks.filter((c) => !c.ok),
    fired: journal.fault.fired,
  }).toEqual({ verdict: 'PASS', failing: [], fired: true });
  expect(code).toBe(0);
  return journal;
};

/** A naive twin: FAIL (as designed), exit 1, on exactly the checks its yaml names, every other check holding. */
const expectFailAsDesigned = async (id: string) => {
  const { code, journal } = await run(id);
  expect({
    verdict: journal.verdict,
    asDesigned: journal.asDesigned,
    fired: journal.fault.fired,
    inconclusive: journal.checks.filter((c) => c.inconclusive).map((c) => c.check),
  }).toEqual({
    verdict: 'FAIL',
    asDesigned: true,
    fired: true,
    inconclusive: [],
  });
  expect(
    journal.checks
      .filter((c) => !c.ok)
      .map((c) => c.check)
      .sort(),
  ).toEqual([...(journal.experiment.mustFail ?? [])].sort());
  expect(code).toBe(1);
  return journal;
};

const check = (journal: RunJournal, name: string) => {
  const found = journal.checks.find((c) => c.check === name);
  if (!found) throw new Error(`${journal.id} has no check ${name}`);
  return found;
};

describe('correct variants pass', () => {
  it.each([
    'kafka-outage',
    'double-submit',
    'last-item',
    'recs-latency',
    'redis-down',
    'poison-message',
    'inventory-partition',
    'postgres-outage',
    'transient-failure',
  ])('%s', expectPass, 300_000);

  it('overload: the excess refused at once with 503 + Retry-After, what was admitted answered within its bound', async () => {
    const journal = await expectPass('overload');
    expect(check(journal, 'fast-refusals (POST /v1/orders)').detail).toMatch(
      /[1-9]\d* refused \([1-9]\d* as 503 problem\+json with Retry-After\), 0 unanswered/,
    );
  }, 300_000);

  it('auth-attack: every forgery, IDOR read and admin call refused as designed, the key rotated and a token revoked, no port open to the network', async () => {
    const journal = await expectPass('auth-attack');
    expect(check(journal, 'refusals-problem-json').detail).toMatch(
      /attempts of 11 kinds .*: 0 not refused as expected$/,
    );
    expect(check(journal, 'no-unauthorized-read').detail).toMatch(
      /\([1-9]\d* of them other customers' orders by id, [1-9]\d* distinct\): 0 answered 2xx, 0 answers held a victim's data/,
    );
    // The controls that make the refusals mean something: the rotation's overlap, the retirement, the revocation.
    expect(journal.fault.evidence.join('\n')).toMatch(
      /both keys are accepted during the rotation overlap: the new key's token accepted \d+ ms after the rotation, the previous key's still accepted/,
    );
    expect(journal.fault.evidence.join('\n')).toMatch(/accepted before; refused \d+ ms after the revocation/);
    // Every service port tried from this machine's network address: refused, while loopback answered.
    expect(check(journal, 'internal-ports-closed').detail).toMatch(
      /[1-9]\d* connects around the gateway: 0 reached their port; 11 controls/,
    );
  }, 300_000);

  it('dlq-replay: the corrected dead letter, replayed twice, notifies its order exactly once', async () => {
    const journal = await expectPass('dlq-replay');
    expect(check(journal, 'replay-effect-once').detail).toMatch(
      /replayed 2 times with its payload corrected .*: order [0-9a-f-]{36} has 1 deliveries, event [0-9a-f-]{36} 1 inbox rows/,
    );
  }, 300_000);

  it('incident-repair: reconcile names exactly the lost orders, the repair converges them, a second repair is a no-op', async () => {
    const journal = await expectPass('incident-repair');
    expect(check(journal, 'repair-exact').detail).toMatch(
      /([1-9]\d*) orders lost; lab reconcile named \1 of the run's orders \(precision 1\.00, recall 1\.00\).*a second repair republished 0/,
    );
  }, 300_000);

  it('consistency-per-feature: orders read back at once during the relay freeze, the feed stale by the freeze, its Data-As-Of true', async () => {
    const journal = await expectPass('consistency-per-feature');
    expect(check(journal, 'read-your-writes').detail).toMatch(
      /[1-9]\d* read-backs \([1-9]\d* while the fault held\): 0 did not return the order just placed/,
    );
    // The feed really fell behind (by most of the 8 s freeze), and the as-of was judged while it was.
    const [, during] = /up to (\d+) ms while it held/.exec(check(journal, 'eventual-read-converges').detail) ?? [];
    expect(Number(during)).toBeGreaterThan(5000);
    expect(check(journal, 'as-of-honest').detail).toMatch(
      /\([1-9]\d* while the fault held, the feed stale\): 0 claimed events it did not hold/,
    );
  }, 300_000);

  it('relay-outage-wal: the frozen relay pins megabytes of WAL, orders reports it and the alert fires; nothing is lost', async () => {
    const journal = await expectPass('relay-outage-wal');
    expect(check(journal, 'wal-retained').detail).toMatch(
      /\(\+[1-9][\d.]* MiB, at least 1\.00 MiB expected\).*wal_status lost in 0 samples/,
    );
    expect(check(journal, 'alert-fired').detail).toMatch(/^ReplicationSlotRetainingWal fired during the run/);
  }, 300_000);

  it('relay-crash: the restarted relay published events again and each order was still notified once', async () => {
    const journal = await expectPass('relay-crash');
    // The dedup path was exercised (read from Kafka, not from a service's counter), and absorbed.
    expect(check(journal, 'redeliveries-absorbed').population?.n).toBeGreaterThan(0);
  }, 300_000);
});

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

describe('Ctrl-C during a run', () => {
  it('thaws the frozen service, empties the fault ledger and exits 130; the lab is whole again', async () => {
    const inventory = (await cli.status()).find((c) => c.name === 'inventory');
    const pid = Number(inventory?.pid);
    expect(pid).toBeGreaterThan(0);
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'apps/lab/bin/lab.js'), 'chaos', 'run', 'last-item', '--quick'],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // last-item freezes inventory (SIGSTOP) before its load: interrupt while it is frozen.
    await eventually(
      'inventory frozen by the run',
      async () => output.includes('froze inventory') && processState(pid) === 'T',
      120_000,
    );
    expect(existsSync(ledgerFile(layout))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output).toContain('SIGINT: healing the fault and stopping what the run started');
    expect(processState(pid)).not.toBe('T');
    expect(existsSync(ledgerFile(layout))).toBe(false);
    await eventually(
      'inventory healthy again',
      async () => (await cli.status()).find((c) => c.name === 'inventory')?.healthy,
      30_000,
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
