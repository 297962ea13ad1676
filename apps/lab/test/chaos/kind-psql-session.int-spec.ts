// PsqlSession (the kind target's one-connection SQL, for `lab reconcile --repair` inside a transaction) against the
// shared test lab's real Postgres: the "kubectl" here is a script that runs the real psql with the session's own
// arguments, pointed at the test lab instead of a pod. What this proves: statements run in order on ONE connection
// (a transaction holds across calls), rows come back for SELECT and RETURNING, a failed statement rejects with
// Postgres' message and the session goes on. What it cannot: that `kubectl exec --stdin` streams the same way.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { kubectlPlan, lockWatchInput, parseLockSamples } from '../../src/chaos/kind/kind-chaos-plan';
import { Kubectl } from '../../src/chaos/kind/kubectl';
import { PsqlSession } from '../../src/chaos/kind/kind-sql';

const PG_URL = process.env['FAULTLINE_TEST_PG_URL'] as string;

/** Drops kubectl's own arguments and psql's --username/--dbname (the pod's), and runs psql on the test lab. */
const FAKE_KUBECTL = String.raw`
const { spawn } = require('node:child_process');
const args = process.argv.slice(process.argv.indexOf('--') + 1);
const psqlArgs = [];
let db = 'postgres';
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--username') { i++; continue; }
  if (args[i] === '--dbname') { db = args[++i]; continue; }
  psqlArgs.push(args[i]);
}
// A conninfo --dbname (the lock watch's: dbname=… application_name=…) keeps its database and application name.
const conninfo = Object.fromEntries(db.includes('=') ? db.split(' ').map((kv) => kv.split('=')) : [['dbname', db]]);
const env = { ...process.env, ...(conninfo.application_name ? { PGAPPNAME: conninfo.application_name } : {}) };
const child = spawn('psql', [...psqlArgs, process.env.FAULTLINE_TEST_PG_URL + '/' + conninfo.dbname], { stdio: 'inherit', env });
child.on('exit', (code) => process.exit(code ?? 1));
`;

describe('PsqlSession (kind): one psql, many statements', () => {
  let dir: string;
  let session: PsqlSession;
  beforeAll(() => {
    if (!PG_URL) throw new Error('FAULTLINE_TEST_PG_URL is not set: run with --selectProjects integration');
    dir = mkdtempSync(join(tmpdir(), 'psql-session-'));
    writeFileSync(join(dir, 'kubectl'), `#!${process.execPath}\n${FAKE_KUBECTL}`);
    chmodSync(join(dir, 'kubectl'), 0o755);
    session = PsqlSession.open(new Kubectl(join(dir, 'kubectl'), dir, process.env), 'postgres');
  });
  afterAll(async () => {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a transaction across calls: what it wrote is seen inside, and gone after ROLLBACK', async () => {
    await session.query('BEGIN');
    await session.query('CREATE TEMP TABLE lab_session_probe (id int, note text)');
    const inserted = await session.query('INSERT INTO lab_session_probe VALUES ($1, $2), (2, $3) RETURNING id, note', [
      1,
      "it's",
      'two',
    ]);
    expect(inserted).toEqual([
      { id: 1, note: "it's" },
      { id: 2, note: 'two' },
    ]);
    expect(await session.query('SELECT count(*)::int AS n FROM lab_session_probe')).toEqual([{ n: 2 }]);
    await session.query('ROLLBACK');
    await expect(session.query('SELECT count(*) FROM lab_session_probe')).rejects.toThrow(
      'psql: relation "lab_session_probe" does not exist',
    );
  });

  it('a failed statement rejects with Postgres’ message; the next one runs', async () => {
    await expect(session.query('SELECT 1/0 AS x')).rejects.toThrow('psql: division by zero');
    expect(await session.query('SELECT 41 + 1 AS answer')).toEqual([{ answer: 42 }]);
    // Concurrent callers are served in order, each with its own result.
    const [a, b] = await Promise.all([session.query('SELECT 1 AS v'), session.query('SELECT 2 AS v')]);
    expect([a, b]).toEqual([[{ v: 1 }], [{ v: 2 }]]);
  });

  it('the lock watch: one line per sample, with every session waiting in it (two waiters on a locked table)', async () => {
    const url = `${PG_URL}/orders`;
    const holder = new Client({ connectionString: url });
    const waiters = [
      new Client({ connectionString: url, application_name: 'orders' }),
      new Client({ connectionString: url, application_name: 'orders' }),
    ];
    for (const c of [holder, ...waiters]) await c.connect();
    try {
      await holder.query('CREATE TABLE IF NOT EXISTS lab_watch_probe (id int)');
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE lab_watch_probe IN ACCESS EXCLUSIVE MODE');
      const waiting = waiters.map((c) => c.query('SELECT count(*) FROM lab_watch_probe'));
      const stop = new AbortController();
      const watch = new Kubectl(join(dir, 'kubectl'), dir, process.env).run(
        kubectlPlan.lockWatch(),
        lockWatchInput(stop.signal),
      );
      await sleep(800);
      stop.abort();
      await holder.query('COMMIT');
      await Promise.all(waiting);
      const { code, stdout } = await watch;
      expect(code).toBe(0);
      const lines = stdout.split('\n').filter((l) => l.trim() !== '');
      const parsed = parseLockSamples(stdout);
      // Every non-empty line is one whole sample; the later ones see both waiters, each for longer.
      expect(lines.length).toBe(parsed.length);
      expect(parsed.length).toBeGreaterThanOrEqual(4);
      const last = parsed[parsed.length - 1].waits;
      expect(last.filter((w) => w.app === 'orders')).toHaveLength(2);
      expect(Math.min(...last.map((w) => w.ms))).toBeGreaterThan(300);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.query('DROP TABLE IF EXISTS lab_watch_probe');
      for (const c of [holder, ...waiters]) await c.end();
    }
  });
});
