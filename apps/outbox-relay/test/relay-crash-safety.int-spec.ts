// The relay's promise, tested against the real test lab: while 1,000 outbox events are committed, the BUILT relay is
// killed with SIGKILL (once while Kafka is down, so events were received but could not be published) and the Kafka
// broker is restarted; afterwards every event is on orders.events (0 lost) and the slot's position is back at the
// head. With the library's default keepalive acknowledgement the kill during the outage loses events. And a relay
// stopped gracefully confirms what it published first, though its report interval had not come round.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { createEvent, ORDERS_EVENTS_TOPIC, type EventEnvelope } from '@faultline/contracts';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import { appendToOutbox, outboxMigrationSql } from '@faultline/outbox';
import { labCli } from '@faultline/testing';

const stateDir = process.env['FAULTLINE_TEST_STATE_DIR'];
if (!stateDir) throw new Error('FAULTLINE_TEST_STATE_DIR is not set: run with --selectProjects integration');
// The shared test lab's broker is stopped and started with the real CLI (`lab infra stop|start kafka`), as a user
// would.
const testLab = labCli({
  LAB_STATE_DIR: stateDir,
  LAB_PORT_OFFSET: process.env['FAULTLINE_TEST_PORT_OFFSET'] ?? '1000',
});
const kafkaComponent = {
  stop: async () => expectOk(await testLab.exec('infra', 'stop', 'kafka')),
  start: async () => expectOk(await testLab.exec('infra', 'start', 'kafka')),
  running: async () => (await testLab.status()).find((c) => c.name === 'kafka')?.state === 'running',
};
function expectOk(result: { code: number; stderr: string }): void {
  if (result.code !== 0) throw new Error(`lab infra failed: ${result.stderr}`);
}
const pgUrl = process.env['FAULTLINE_TEST_PG_URL'] as string;
const brokers = (process.env['FAULTLINE_TEST_KAFKA_BROKERS'] as string).split(',');
const root = join(__dirname, '../../..');
const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const database = `relay_test_${id}`;
const slot = `outbox_relay_test_${id}`;
const httpPort = 19500 + (randomBytes(1)[0] % 90);
const TOTAL = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tiny supervisor: restarts the relay whenever it exits, like the lab's supervisor and Kubernetes. */
class RelayProcess {
  constructor(
    private readonly relaySlot = slot,
    private readonly extraEnv: Record<string, string> = {},
  ) {}
  child?: ChildProcess;
  starts = 0;
  /** How each run ended: SIGKILL for ours, anything else is a crash the relay should not have had. */
  exits: string[] = [];
  private stopping = false;
  log = '';
  start(): void {
    this.starts += 1;
    const child = spawn(process.execPath, [join(root, 'dist/apps/outbox-relay/src/main.js')], {
      cwd: root,
      env: {
        PATH: process.env['PATH'],
        RELAY_SOURCE: 'orders',
        RELAY_SLOT_NAME: this.relaySlot,
        DATABASE_URL: `${pgUrl}/${database}`,
        KAFKA_BROKERS: brokers.join(','),
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'info',
        RELAY_RESTART_BACKOFF_MAX_MS: '2000',
        RELAY_SLOT_LAG_INTERVAL_MS: '1000',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-20000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      this.exits.push(signal ?? `code ${code}`);
      if (!this.stopping && this.child === child) setTimeout(() => this.start(), 300);
    });
    this.child = child;
  }
  kill(): void {
    this.child?.kill('SIGKILL');
  }
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10000)]);
    child.kill('SIGKILL');
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const ready = () =>
  waitFor(
    'the relay to stream (/readyz 200)',
    async () => ((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200 ? true : undefined),
    90000,
  );

async function slotState(client: Client, slotName = slot): Promise<{ confirmed: string; lagBytes: number }> {
  const result = await client.query(
    'SELECT confirmed_flush_lsn::text AS confirmed, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag FROM pg_replication_slots WHERE slot_name = $1',
    [slotName],
  );
  return { confirmed: result.rows[0].confirmed, lagBytes: result.rows[0].lag };
}

const lsnValue = (lsn: string) => {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};

describe('outbox relay crash safety (built relay, real Postgres and Kafka)', () => {
  let db: Client;
  let scratch: ScratchDatabase | undefined;
  const relay = new RelayProcess();

  beforeAll(async () => {
    scratch = await createScratchDatabase((name) => `${pgUrl}/${name}`, database);
    db = new Client({ connectionString: scratch.url });
    await db.connect();
    for (const sql of outboxMigrationSql().up) await db.query(sql);
  });

  afterAll(async () => {
    await relay.stop();
    // The broker is shared: whatever happened, leave it running.
    if (!(await kafkaComponent.running())) await kafkaComponent.start().catch(() => undefined);
    await db?.end().catch(() => undefined);
    // Slots pin WAL for the whole server: the relay's goes with its database, whatever happened.
    await scratch?.drop();
  });

  it('loses no event across two SIGKILLs (one during a broker outage) and a Kafka restart', async () => {
    relay.start();
    await ready();
    const initial = await slotState(db);

    // 1,000 OrderPlaced events in transactions of 1 to 4 events, paced so the chaos below lands mid-stream.
    const eventIds: string[] = [];
    let committed = 0;
    const insert = async (count: number) => {
      while (committed < count) {
        const size = Math.min(1 + (committed % 4), count - committed);
        const events: EventEnvelope[] = [];
        for (let i = 0; i < size; i += 1) {
          const orderId = crypto.randomUUID();
          events.push(
            createEvent('OrderPlaced', {
              orderId,
              customerId: `crash-${id}`,
              items: [{ sku: 'SKU-0001', quantity: 1 }],
              placedAt: new Date().toISOString(),
            }),
          );
        }
        await db.query('BEGIN');
        await appendToOutbox(db, events);
        await db.query('COMMIT');
        eventIds.push(...events.map((event) => event.metadata.eventId));
        committed += size;
        await sleep(8);
      }
    };

    const began = Date.now();
    await insert(200);
    relay.kill(); // SIGKILL #1 while streaming
    await insert(350);
    await kafkaComponent.stop(); // the broker goes away; inserts go on
    await insert(550);
    await sleep(3000); // the relay receives these, cannot publish them...
    relay.kill(); // SIGKILL #2 with received-but-unpublished events: the trap would lose them here
    await insert(650);
    await kafkaComponent.start();
    await insert(TOTAL);
    await ready();
    expect(eventIds).toHaveLength(TOTAL);
    expect(relay.starts).toBeGreaterThanOrEqual(3);
    // Kafka being down is handled inside the process (readiness false, session restarts from the slot): the only
    // exits are the two kills.
    expect(relay.exits).toEqual(['SIGKILL', 'SIGKILL']);

    // Every event id must arrive on orders.events at least once.
    const wanted = new Set(eventIds);
    const seen = new Map<string, number>();
    const committedAt: number[] = [];
    const kafka = new Kafka({ clientId: `relay-crash-${id}`, brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `relay-crash-${id}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: ORDERS_EVENTS_TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const eventId = message.headers?.['event-id']?.toString();
          if (eventId && wanted.has(eventId)) seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
          if (eventId && wanted.has(eventId)) committedAt.push(Number(message.headers?.['committed-at']?.toString()));
        },
      });
      await waitFor('every event on orders.events', async () => (seen.size === TOTAL ? true : undefined), 120000).catch(
        () => undefined,
      );
    } finally {
      await consumer.disconnect();
    }
    const missing = eventIds.filter((eventId) => !seen.has(eventId));
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    console.log(
      `relay crash safety: ${TOTAL} events, ${seen.size} delivered, ${missing.length} lost, ${duplicates} duplicates, ` +
        `${relay.starts} relay starts, ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
    if (missing.length > 0) process.stderr.write(relay.log);
    expect(missing).toEqual([]);
    // Every message carries its transaction's commit time (how current a consumer's read model is comes from it).
    expect(committedAt.filter((ms) => !(ms >= began - 1000 && ms <= Date.now()))).toEqual([]);

    // The slot moved forward, and only as far as what was published: once everything is in Kafka the relay catches up
    // to the head of the WAL (idle keepalives), so the retained WAL shrinks back to (nearly) nothing.
    const final = await waitFor(
      'the slot to catch up with the WAL head',
      async () => {
        const state = await slotState(db);
        return state.lagBytes < 1024 * 1024 ? state : undefined;
      },
      60000,
    );
    expect(lsnValue(final.confirmed)).toBeGreaterThan(lsnValue(initial.confirmed));
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toMatch(/outbox_relay_events_published_total\{[^}]*type="OrderPlaced"[^}]*\} \d+/);
    expect(metrics).toMatch(/replication_slot_lag_bytes\{[^}]*slot="outbox_relay_test_/);
  }, 600000);
});

describe('a graceful stop (built relay)', () => {
  const graceful = `${database}_graceful`;
  const gracefulSlot = `${slot}_graceful`;
  let db: Client;
  let scratch: ScratchDatabase | undefined;
  // A report interval far longer than the test: only the stop itself can confirm what was published.
  const relay = new RelayProcess(gracefulSlot, {
    DATABASE_URL: `${pgUrl}/${graceful}`,
    RELAY_ACK_INTERVAL_MS: '60000',
  });

  beforeAll(async () => {
    scratch = await createScratchDatabase((name) => `${pgUrl}/${name}`, graceful);
    db = new Client({ connectionString: scratch.url });
    await db.connect();
    for (const sql of outboxMigrationSql().up) await db.query(sql);
  });

  afterAll(async () => {
    await relay.stop();
    await db?.end().catch(() => undefined);
    await scratch?.drop();
  });

  it('confirms every published position before it exits, so the next start publishes nothing twice', async () => {
    relay.start();
    await ready();
    const published = (n: number) =>
      waitFor(
        `${n} events published`,
        async () =>
          new RegExp(`outbox_relay_events_published_total\\{[^}]*\\} ${n}\\b`).test(
            await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
          )
            ? true
            : undefined,
        30000,
      );
    const commit = async () => {
      const events = Array.from({ length: 20 }, () =>
        createEvent('OrderPlaced', {
          orderId: crypto.randomUUID(),
          customerId: `graceful-${id}`,
          items: [{ sku: 'SKU-0001', quantity: 1 }],
          placedAt: new Date().toISOString(),
        }),
      );
      await db.query('BEGIN');
      await appendToOutbox(db, events);
      await db.query('COMMIT');
      return lsnValue((await db.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn);
    };
    // The first batch is reported at once; the second falls inside the 60 s interval (the relay's own count says
    // Kafka acknowledged it), so the slot has not moved past it yet.
    await commit();
    await published(20);
    const committedAt = await commit();
    await published(40);
    expect(lsnValue((await slotState(db, gracefulSlot)).confirmed)).toBeLessThan(committedAt);
    await relay.stop();
    expect(relay.exits).not.toContain('SIGKILL');
    expect(lsnValue((await slotState(db, gracefulSlot)).confirmed)).toBeGreaterThanOrEqual(committedAt);
  }, 120000);
});
