import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import {
  createInfra,
  createKafka,
  createPostgres,
  createPrometheus,
  createRedis,
  LAB_DATABASES,
  LAB_TOPICS,
  postgresUrl,
} from '../src/infra/infra';
import { resolveLayout } from '../src/layout/lab-layout';
import { LabError } from '../src/process/lab-error';
import { isOurs } from '../src/process/pid-file';
import { silentProgress } from '../src/process/progress';

// The global setup (support/global-setup.js) started the test lab and described it in these env vars.
function testLabLayout() {
  const stateDir = process.env['FAULTLINE_TEST_STATE_DIR'];
  if (!stateDir)
    throw new Error('FAULTLINE_TEST_STATE_DIR is not set: run this suite with --selectProjects integration');
  return resolveLayout({
    ...process.env,
    LAB_STATE_DIR: stateDir,
    LAB_PORT_OFFSET: process.env['FAULTLINE_TEST_PORT_OFFSET'],
  });
}
const layout = testLabLayout();
const unique = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

async function withPg<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: postgresUrl(layout, database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('the lab infrastructure (local target)', () => {
  it('reuses every running component: same pid, reused:true, twice', async () => {
    for (const component of createInfra(layout, [])) {
      const first = await component.start(silentProgress);
      const second = await component.start(silentProgress);
      if ('unavailable' in first) {
        expect(component.name).toBe('prometheus');
        expect(second).toEqual(first);
        continue;
      }
      const status = await component.status();
      expect({ name: component.name, first, second }).toEqual({
        name: component.name,
        first: { reused: true, pid: status.pid },
        second: { reused: true, pid: status.pid },
      });
      expect(status).toMatchObject({ state: 'running', healthy: true, port: component.port });
    }
  });

  it('round-trips a message through the real Kafka', async () => {
    const kafka = new Kafka({
      clientId: 'infra-int-spec',
      brokers: [`127.0.0.1:${layout.ports.kafka}`],
      logLevel: logLevel.WARN,
    });
    const admin = kafka.admin();
    const topic = `it.roundtrip.${unique()}`;
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = kafka.consumer({ groupId: `it-${unique()}` });
    await admin.connect();
    try {
      expect(await admin.listTopics()).toEqual(expect.arrayContaining([...LAB_TOPICS]));
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      const key = unique();
      let deliver: (message: { key: string; value: string }) => void = () => undefined;
      const received = new Promise<{ key: string; value: string }>((resolve) => (deliver = resolve));
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() === key) deliver({ key, value: message.value?.toString() ?? '' });
        },
      });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key, value: 'hello through the lab' }] });
      let timer: NodeJS.Timeout | undefined;
      // Bounded so a broken broker fails this test with a message instead of hanging until Jest's timeout.
      const timeout = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error('no message within 60 s')), 60000)),
      );
      await expect(Promise.race([received, timeout]).finally(() => clearTimeout(timer))).resolves.toEqual({
        key,
        value: 'hello through the lab',
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('runs Postgres with wal_level=logical and decodes inserts through a pgoutput slot', async () => {
    await withPg('postgres', async (client) => {
      expect((await client.query('SHOW wal_level')).rows[0].wal_level).toBe('logical');
      const id = unique();
      const table = `it_cdc_${id}`;
      const publication = `it_pub_${id}`;
      const slot = `it_slot_${id}`;
      await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, note text NOT NULL)`);
      try {
        await client.query(`CREATE PUBLICATION ${publication} FOR TABLE ${table} WITH (publish = 'insert')`);
        // Temporary: even if this test dies, the slot goes with the session instead of pinning WAL forever.
        await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput', true)`, [slot]);
        await client.query(`INSERT INTO ${table} (id, note) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
        const changes = await client.query<{ data: Buffer }>(
          `SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
          [slot, publication],
        );
        // pgoutput message types are their first byte: B(egin), R(elation), I(nsert), C(ommit).
        const types = changes.rows.map((row) => String.fromCharCode(row.data[0]));
        expect(types.filter((type) => type === 'I')).toHaveLength(3);
        expect(types).toEqual(expect.arrayContaining(['B', 'R', 'C']));
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      } finally {
        await client.query(`DROP PUBLICATION IF EXISTS ${publication}`);
        await client.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });
  });

  it("creates the services' databases", async () => {
    const names = await withPg('postgres', async (client) =>
      (await client.query('SELECT datname FROM pg_database')).rows.map((row) => row.datname),
    );
    expect(names).toEqual(expect.arrayContaining([...LAB_DATABASES]));
    for (const database of LAB_DATABASES) {
      await withPg(database, async (client) =>
        expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe(database),
      );
    }
  });

  it('runs Redis: PING, SET and GET', async () => {
    const redis = new Redis(process.env['FAULTLINE_TEST_REDIS_URL'] ?? `redis://127.0.0.1:${layout.ports.redis}`, {
      maxRetriesPerRequest: 1,
    });
    try {
      expect(await redis.ping()).toBe('PONG');
      const key = `it:${unique()}`;
      await redis.set(key, 'value', 'EX', 60);
      expect(await redis.get(key)).toBe('value');
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  it('stops exactly its process, says stopped, and starts again', async () => {
    const redis = createRedis(layout);
    const before = await redis.status();
    expect(before.state).toBe('running');
    const oldPid = before.pid as number;

    await redis.stop();
    const stopped = await redis.status();
    expect(stopped).toMatchObject({ state: 'stopped', pid: null, healthy: false });
    expect(isOurs(oldPid)).toBe(false);
    await expect(redis.stop()).resolves.toBeUndefined(); // a no-op when not running

    const again = await redis.start(silentProgress);
    expect(again).toMatchObject({ reused: false });
    expect((await redis.status()).state).toBe('running');
    expect(await redis.start(silentProgress)).toEqual(
      again && 'pid' in again ? { reused: true, pid: again.pid } : again,
    );
  });

  describe('on a fresh state dir', () => {
    let stateDir: string;
    let fresh: ReturnType<typeof resolveLayout>;
    // PATH without any of the programs, so the lookup really finds nothing.
    const noBinaries = {
      ...process.env,
      PATH: '/nonexistent',
      JAVA_HOME: '',
      LAB_PROMETHEUS_BIN: '',
      LAB_REDIS_BIN: '',
    };

    beforeAll(() => {
      stateDir = mkdtempSync(join(tmpdir(), 'faultline-it-'));
      // Offset 3000: clear of the user's lab (0), the test lab (1000) and the CLI e2e suite's lab (2000).
      fresh = resolveLayout({ LAB_STATE_DIR: stateDir, LAB_PORT_OFFSET: '3000' });
    });
    afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

    async function startError(start: Promise<unknown>): Promise<LabError> {
      const error = await start.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LabError);
      return error as LabError;
    }

    it('fails with one line naming what to install', async () => {
      const postgres = await startError(
        createPostgres(fresh, { ...process.env, LAB_PG_BIN_DIR: '/nonexistent' }).start(silentProgress),
      );
      expect(postgres.component).toBe('postgres');
      expect(postgres.message).toMatch(/apt-get install postgresql/);
      expect(postgres.message).not.toContain('\n');

      const kafka = await startError(createKafka(fresh, noBinaries).start(silentProgress));
      expect(kafka.message).toMatch(/install a JDK 17\+/);
      expect(kafka.message).not.toContain('\n');

      const redis = await startError(createRedis(fresh, noBinaries).start(silentProgress));
      expect(redis.message).toMatch(/apt-get install redis-server/);
      expect(redis.message).not.toContain('\n');
    });

    it('fails with the end of the log when the process dies during start', async () => {
      // Something else holds the port (and hangs up on whoever connects): Redis cannot bind and exits at once.
      const squatter = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => squatter.listen(fresh.ports.redis, '127.0.0.1', resolve));
      try {
        const redis = createRedis(fresh);
        const error = await startError(redis.start(silentProgress));
        expect(error.describe()).toContain(`(log: ${redis.logFile})`);
        expect(error.message).toMatch(/exited during start/);
        expect(error.message).toMatch(/Address already in use/);
        expect((await redis.status()).state).toBe('stopped');
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
    });

    it('reports a missing Prometheus as unavailable, not as an error', async () => {
      const prometheus = createPrometheus(fresh, [], noBinaries);
      const result = await prometheus.start(silentProgress);
      expect(result).toEqual({ unavailable: expect.stringMatching(/apt-get install prometheus/) });
      expect(await prometheus.status()).toMatchObject({ state: 'unavailable', pid: null });
    });
  });
});
