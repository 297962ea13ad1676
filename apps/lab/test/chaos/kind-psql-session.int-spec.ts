// PsqlSession (the kind target's one-connection SQL, for `lab reconcile --repair` inside a transaction) against the
// shared test lab's real Postgres: the "kubectl" here is a script that runs the real psql with the session's own
// arguments, pointed at the test lab instead of a pod. What this proves: statements run in order on ONE connection
// (a transaction holds across calls), rows come back for SELECT and RETURNING, a failed statement rejects with
// Postgres' message and the session goes on. What it cannot: that `kubectl exec --stdin` streams the same way.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const child = spawn('psql', [...psqlArgs, process.env.FAULTLINE_TEST_PG_URL + '/' + db], { stdio: 'inherit' });
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
    const inserted = await session.query('INSERT INTO lab_session_probe VALUES ($1, $2), (2, $3) RETURNING id, note', [1, "it's", 'two']);
    expect(inserted).toEqual([{ id: 1, note: "it's" }, { id: 2, note: 'two' }]);
    expect(await session.query('SELECT count(*)::int AS n FROM lab_session_probe')).toEqual([{ n: 2 }]);
    await session.query('ROLLBACK');
    await expect(session.query('SELECT count(*) FROM lab_session_probe')).rejects.toThrow('psql: relation "lab_session_probe" does not exist');
  });

  it('a failed statement rejects with Postgres’ message; the next one runs', async () => {
    await expect(session.query('SELECT 1/0 AS x')).rejects.toThrow('psql: division by zero');
    expect(await session.query('SELECT 41 + 1 AS answer')).toEqual([{ answer: 42 }]);
    // Concurrent callers are served in order, each with its own result.
    const [a, b] = await Promise.all([session.query('SELECT 1 AS v'), session.query('SELECT 2 AS v')]);
    expect([a, b]).toEqual([[{ v: 1 }], [{ v: 2 }]]);
  });
});
