import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { isOurs, livePid, spawnDetached, stopRecorded, tailFile, writePidFile } from '../process/pid-file';
import { Progress } from '../process/progress';
import { awaitReady, infraStatus } from './component-process';
import { findOnPath, isExecutable } from './find-binary';
import { ComponentStatus, InfraComponent, StartResult } from './infra-component';
import { asUser, POSTGRES_SYSTEM_USER, runningAsRoot } from './run-as';

const NAME = 'postgres';

/** The databases the services own (one per service, as in the kind target). */
export const LAB_DATABASES = ['orders', 'inventory', 'notifications'] as const;

// Start-up includes crash recovery after a pod-kill experiment (SIGKILL); the lab's WAL is small, so a minute is
// generous even on a loaded 2-core CI machine.
const READY_TIMEOUT_MS = 60000;
// Fast shutdown (SIGINT) ends sessions and writes a checkpoint; past this we SIGKILL and let the next start recover.
const STOP_GRACE_MS = 30000;
// One connection attempt (and query) of a readiness probe; short, since the probe is retried.
const CONNECT_TIMEOUT_MS = 2000;
const INSTALL_HINT = 'install PostgreSQL server binaries (Debian: apt-get install postgresql)';

export function postgresUrl(layout: LabLayout, database = 'postgres'): string {
  return `postgres://postgres@127.0.0.1:${layout.ports.postgres}/${database}`;
}

/**
 * Where the cluster's files live. Normally `<dataDir>/postgres`. When the lab runs as root (CI), Postgres runs as the
 * `postgres` system user, which cannot enter a repository under a 0700 home like /root; the cluster then lives in
 * `/var/tmp/faultline-<hash of the state dir>/postgres` (a state dir maps to exactly one cluster, and /var/tmp
 * survives reboots, unlike /tmp), and `<dataDir>/postgres` is a symlink to it so it can still be found from `.lab/`.
 */
export function postgresDataDir(layout: LabLayout): string {
  if (!runningAsRoot()) return join(layout.dataDir, 'postgres');
  const hash = createHash('sha256').update(layout.stateDir).digest('hex').slice(0, 12);
  return join('/var/tmp', `faultline-${hash}`, 'postgres');
}

function hasServerBinaries(dir: string): boolean {
  return isExecutable(join(dir, 'postgres')) && isExecutable(join(dir, 'initdb'));
}

/** LAB_PG_BIN_DIR, else `pg_config --bindir`, else the newest /usr/lib/postgresql/<n>/bin, else the PATH. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['LAB_PG_BIN_DIR'];
  if (explicit) {
    if (hasServerBinaries(explicit)) return explicit;
    throw new LabError(
      NAME,
      `LAB_PG_BIN_DIR=${explicit} has no initdb/postgres: ${INSTALL_HINT} or fix LAB_PG_BIN_DIR`,
    );
  }
  const pgConfig = findOnPath('pg_config', env);
  if (pgConfig) {
    try {
      const dir = execFileSync(pgConfig, ['--bindir'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      if (hasServerBinaries(dir)) return dir;
    } catch {
      // A broken pg_config is not fatal: the other places may still have the server.
    }
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = join(debianRoot, version, 'bin');
      if (hasServerBinaries(dir)) return dir;
    }
  }
  const onPath = findOnPath('postgres', env);
  if (onPath && hasServerBinaries(dirname(onPath))) return dirname(onPath);
  throw new LabError(NAME, `initdb/postgres not found: ${INSTALL_HINT} or set LAB_PG_BIN_DIR`);
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>, queryTimeoutMs?: number): Promise<T> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: queryTimeoutMs,
  });
  // A server going away mid-probe emits 'error' on the client; the awaited call reports it, so swallow the event.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabases(url: string): Promise<void> {
  await withClient(url, async (client) => {
    for (const database of LAB_DATABASES) {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount) continue;
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        // Another `lab up` created it between our check and our CREATE: that is the state we want.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  });
}

function systemUserIds(user: string): { uid: number; gid: number } {
  try {
    const uid = Number(
      execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    return { uid, gid };
  } catch {
    throw new LabError(NAME, `running as root needs the '${user}' system user to run Postgres: ${INSTALL_HINT}`);
  }
}

export function createPostgres(layout: LabLayout, env: NodeJS.ProcessEnv = process.env): InfraComponent {
  const port = layout.ports.postgres;
  const logFile = join(layout.logDir, `${NAME}.log`);
  const pidFile = join(layout.runDir, `${NAME}.pid`);
  const pgData = postgresDataDir(layout);
  // The data dir is on the postmaster's command line (`postgres -D <dir>`), and unique to this lab.
  const marker = pgData;
  const adminUrl = postgresUrl(layout, 'postgres');
  const runAs = runningAsRoot() ? POSTGRES_SYSTEM_USER : undefined;
  // Bounded query too: a frozen (SIGSTOPped) Postgres accepts TCP connections but never answers.
  const probe = async () =>
    withClient(
      adminUrl,
      async (client) => (await client.query('SELECT 1 AS ok')).rows[0]?.ok === 1,
      CONNECT_TIMEOUT_MS,
    );

  /** A postmaster of this cluster whose pid file we lost (e.g. `.lab/run` wiped): adopt it rather than fail. */
  function adoptOrphan(): number | undefined {
    try {
      const pid = Number(readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0 && isOurs(pid, marker)) {
        writePidFile(pidFile, { pid, marker, startedAt: new Date().toISOString() });
        return pid;
      }
    } catch {
      // No postmaster.pid (or unreadable): nothing to adopt.
    }
    return undefined;
  }

  function prepareDataDir(): void {
    const ids = runAs ? systemUserIds(runAs) : undefined;
    if (!existsSync(join(pgData, 'PG_VERSION')) && existsSync(pgData)) {
      // A cluster directory without PG_VERSION is the remains of an interrupted initdb: start over.
      rmSync(pgData, { recursive: true, force: true });
    }
    // The parent must be enterable by the postgres user; the cluster dir itself must be 0700 (Postgres checks).
    mkdirSync(dirname(pgData), { recursive: true });
    if (ids) chmodSync(dirname(pgData), 0o755);
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    if (ids) chownSync(pgData, ids.uid, ids.gid);
    const link = join(layout.dataDir, 'postgres');
    if (link !== pgData) {
      mkdirSync(layout.dataDir, { recursive: true });
      let present = true;
      try {
        lstatSync(link);
      } catch {
        present = false;
      }
      if (!present) symlinkSync(pgData, link);
    }
  }

  function initdb(binDir: string, progress: Progress): void {
    progress.step(NAME, `initdb into ${pgData}`);
    mkdirSync(layout.logDir, { recursive: true });
    const log = openSync(logFile, 'a');
    try {
      const [command, args] = asUser(runAs, join(binDir, 'initdb'), [
        // 1 MiB WAL segments (16 by default): the lab writes megabytes where production writes gigabytes, so a slot
        // that falls behind crosses segments, and max_slot_wal_keep_size can cut it, within an experiment's minute.
        '-D',
        pgData,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--wal-segsize=1',
      ]);
      const result = spawnSync(command, args, { cwd: dirname(pgData), env, stdio: ['ignore', log, log] });
      if (result.status !== 0) {
        const tail = tailFile(logFile);
        throw new LabError(
          NAME,
          `initdb failed (exit ${result.status ?? result.signal ?? result.error?.message})${tail ? `:\n${tail}` : ''}`,
          logFile,
        );
      }
    } finally {
      closeSync(log);
    }
    // Our settings live in their own file, rewritten on every start so a changed port offset takes effect.
    appendFileSync(
      join(pgData, 'postgresql.conf'),
      `\n# Faultline lab settings (rewritten by \`lab up\`)\ninclude_if_exists = 'faultline.conf'\n`,
    );
  }

  function writeSettings(): void {
    const file = join(pgData, 'faultline.conf');
    writeFileSync(
      file,
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        // Unix socket paths are limited to ~107 bytes, which a deep state dir exceeds; TCP only.
        `unix_socket_directories = ''`,
        // Logical decoding for the outbox relays (CDC); it needs a restart to change, so it is set from the start.
        `wal_level = logical`,
        `max_replication_slots = 16`,
        `max_wal_senders = 16`,
        // Every service keeps a pool, and tests open their own connections on top.
        `max_connections = 200`,
        // Postgres' own statement counts (as on kind): what a query costs, whoever sends it.
        `shared_preload_libraries = 'pg_stat_statements'`,
        '',
      ].join('\n'),
    );
    if (runAs) {
      const ids = systemUserIds(runAs);
      chownSync(file, ids.uid, ids.gid);
    }
  }

  async function ready(pid: number): Promise<void> {
    await awaitReady({
      component: NAME,
      pid,
      marker,
      logFile,
      description: 'Postgres to answer SELECT 1',
      timeoutMs: READY_TIMEOUT_MS,
      probe,
    });
    try {
      await ensureDatabases(adminUrl);
    } catch (error) {
      throw new LabError(NAME, `could not create the lab's databases: ${(error as Error).message}`, logFile);
    }
  }

  return {
    name: NAME,
    port,
    logFile,
    async start(progress: Progress): Promise<StartResult> {
      const running = livePid(pidFile) ?? adoptOrphan();
      if (running) {
        await ready(running);
        progress.done(NAME, `already running (pid ${running}, port ${port})`);
        return { reused: true, pid: running };
      }
      const binDir = findPostgresBinDir(env);
      prepareDataDir();
      if (!existsSync(join(pgData, 'PG_VERSION'))) initdb(binDir, progress);
      writeSettings();
      progress.step(NAME, `starting on 127.0.0.1:${port}`);
      const [command, args] = asUser(runAs, join(binDir, 'postgres'), ['-D', pgData]);
      const pid = spawnDetached({ command, args, logFile, pidFile, marker, env, cwd: dirname(pgData) });
      await ready(pid);
      progress.done(NAME, `ready (pid ${pid}, port ${port})`);
      return { reused: false, pid };
    },
    async stop(): Promise<void> {
      // SIGINT is Postgres's "fast" shutdown; SIGTERM ("smart") waits for every client to disconnect, possibly forever.
      await stopRecorded(pidFile, marker, STOP_GRACE_MS, 'SIGINT');
    },
    async status(): Promise<ComponentStatus> {
      return infraStatus({ name: NAME, port, pidFile, logFile, url: postgresUrl(layout), probe });
    },
  };
}
