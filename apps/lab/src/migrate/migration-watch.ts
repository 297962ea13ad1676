// What `lab migrate` watches while a migration runs, from outside the migration: every backend waiting for a lock
// in the orders database (pg_stat_activity + pg_locks, sampled every 25 ms) and the replication slot's lag. A wait
// is one episode per (backend, statement start), measured at its longest observation, so the figure is at most one
// sampling interval short of the truth (the report says so).
import { Client } from 'pg';

export interface LockWait {
  pid: number;
  app: string;
  query: string;
  mode: string;
  ms: number;
  /** The migration step running when the wait was first seen. */
  step: string;
}

export interface WatchSummary {
  samples: number;
  intervalMs: number;
  longestLockWaitMs: number;
  /** Longest wait of the application (application_name orders), the one the users feel. */
  longestApplicationWaitMs: number;
  lockWaitsOverBudget: number;
  budgetMs: number;
  worstWaits: LockWait[];
  maxSlotLagBytes: number;
}

/** One row of LOCK_WAITS_SQL: a backend of the orders database waiting for a lock, at one sample. */
export interface LockSample {
  pid: number;
  app: string;
  query: string;
  started: string;
  ms: number;
  mode: string | null;
}

/** Who waits for a lock in the current database, and on what: one sample (the lab's own backend excluded). */
export const LOCK_WAITS_SQL = `SELECT a.pid, a.application_name AS app, left(regexp_replace(a.query, '\\s+', ' ', 'g'), 160) AS query, a.query_start::text AS started,
              extract(epoch FROM clock_timestamp() - a.query_start)::float * 1000 AS ms,
              (SELECT string_agg(DISTINCT l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype), ', ') FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS mode
         FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()`;

/** How far the current database's replication slots trail the WAL, in bytes. */
export const SLOT_LAG_SQL =
  'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float AS lag FROM pg_replication_slots WHERE database = current_database()';

/**
 * Lock-wait episodes out of samples, whoever took them (a pg client here, psql in the Postgres pod on kind): one
 * episode per (backend, statement start), measured at its longest observation.
 */
export class LockEpisodes {
  private readonly episodes = new Map<string, LockWait>();
  private samples = 0;
  private maxSlotLagBytes = 0;

  add(rows: LockSample[], slotLags: (number | null)[], step: string): void {
    for (const r of rows) {
      const key = `${r.pid}@${r.started}`;
      const seen = this.episodes.get(key);
      if (seen) seen.ms = Math.max(seen.ms, r.ms);
      else this.episodes.set(key, { pid: r.pid, app: r.app, query: r.query, mode: r.mode ?? '', ms: r.ms, step });
    }
    for (const lag of slotLags) this.maxSlotLagBytes = Math.max(this.maxSlotLagBytes, lag ?? 0);
    this.samples += 1;
  }

  summary(intervalMs: number, budgetMs: number): WatchSummary {
    const waits = [...this.episodes.values()].sort((a, b) => b.ms - a.ms);
    return {
      samples: this.samples,
      intervalMs,
      longestLockWaitMs: Math.round(waits[0]?.ms ?? 0),
      longestApplicationWaitMs: Math.round(waits.find((w) => w.app === 'orders')?.ms ?? 0),
      lockWaitsOverBudget: waits.filter((w) => w.ms > budgetMs).length,
      budgetMs,
      worstWaits: waits.slice(0, 5).map((w) => ({ ...w, ms: Math.round(w.ms) })),
      maxSlotLagBytes: this.maxSlotLagBytes,
    };
  }
}

export class MigrationWatch {
  private readonly episodes = new LockEpisodes();
  private step = 'start';
  private running = false;
  private loop?: Promise<void>;

  private constructor(
    private readonly db: Client,
    private readonly intervalMs: number,
    private readonly budgetMs: number,
  ) {}

  static async start(ordersUrl: string, budgetMs: number, intervalMs = 25): Promise<MigrationWatch> {
    const db = new Client({ connectionString: ordersUrl, application_name: 'lab-migrate-watch' });
    await db.connect();
    const watch = new MigrationWatch(db, intervalMs, budgetMs);
    watch.running = true;
    watch.loop = watch.run();
    return watch;
  }

  /** Attributes the waits seen from now on to `step`. */
  mark(step: string): void {
    this.step = step;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const began = Date.now();
      try {
        await this.sample();
      } catch {
        // A sample that failed (the database restarting, say) is just missing; the next one is taken on time.
      }
      const wait = this.intervalMs - (Date.now() - began);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async sample(): Promise<void> {
    const { rows } = await this.db.query<LockSample>(LOCK_WAITS_SQL);
    const { rows: slots } = await this.db.query<{ lag: number | null }>(SLOT_LAG_SQL);
    this.episodes.add(
      rows,
      slots.map((s) => s.lag),
      this.step,
    );
  }

  async stop(): Promise<WatchSummary> {
    this.running = false;
    await this.loop;
    await this.db.end().catch(() => undefined);
    return this.episodes.summary(this.intervalMs, this.budgetMs);
  }
}
