// The correct variants of the chaos catalog on the local target, in the --quick profile (short load and fault windows,
// same checks), through the real CLI, on one lab for all of them (.lab/test-chaos, ports +4600): each PASSes with
// every check holding (trace assertions included) and its fault proven; Ctrl-C mid-run heals what the run broke; and
// the orders service's reconciliation job (every second in this lab) exports planted drift by kind with the ids in
// its log. The naive twins, sabotaged drivers and `lab reconcile` run beside this on a lab of their own
// (chaos-local-naive.e2e-spec.ts).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually, repoRoot } from '@faultline/testing';
import { metricValue } from '../../src/chaos/checks';
import { ledgerFile } from '../../src/chaos/fault-ledger';
import { postgresUrl } from '../../src/infra/infra';
import { processState } from '../../src/process/pid-file';
import { check, useChaosLocalLab } from '../support/chaos-local-lab';

const env = { LAB_STATE_DIR: '.lab/test-chaos', LAB_PORT_OFFSET: '4600', LAB_GATEWAY_PORT: '' };
const { cli, layout, expectPass } = useChaosLocalLab(env);

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
