// The consistency-per-feature checks: the strong read (an order read back right after its 201) and the eventually
// consistent one (the notification feed), judged against times the services under test do not report themselves.
// An order event is COMMITTED when its outbox row was written; the feed REFLECTS it once notifications wrote the
// notification (an outcome, OrderConfirmed/OrderRejected) or, for any other order event, once the relay published it
// (its record's timestamp on orders.events: notifications then skips it within milliseconds, and cannot before).
import type { RunEvidence } from './evidence';
import { LOAD_ROUTES, percentile } from '@faultline/load';
import type { Judgement } from './judgement';

const OUTCOMES = new Set(['OrderConfirmed', 'OrderRejected']);
const sample = (items: string[], n = 10) =>
  items.length > n ? [...items.slice(0, n), `… and ${items.length - n} more`] : items;

/** One order event of the run, in ms since the load started (reflected absent: never, as far as the evidence goes). */
export interface Reflection {
  orderId: string;
  type: string;
  committed: number;
  reflected?: number;
}

export async function reflectionsOf(ev: RunEvidence): Promise<Reflection[] | undefined> {
  const bus = await ev.bus();
  if (!bus) return undefined;
  const published = new Map(
    bus.filter((m) => m.topic === 'orders.events' && m.eventId).map((m) => [m.eventId as string, m.timestamp]),
  );
  const applied = new Map((await ev.notifications()).map((n) => [n.orderId, n.createdAt]));
  return (await ev.outbox())
    .filter((row) => row.source === 'orders' && row.createdAt !== undefined)
    .map((row) => {
      const at = OUTCOMES.has(row.type) ? applied.get(row.orderId) : published.get(row.eventId);
      return {
        orderId: row.orderId,
        type: row.type,
        committed: (row.createdAt as number) - ev.loadStartedAt,
        ...(at === undefined ? {} : { reflected: at - ev.loadStartedAt }),
      };
    });
}

/**
 * How stale the feed was at `t`: the age of the oldest order event committed by then and not reflected yet (0: none).
 */
export function stalenessAt(events: readonly Reflection[], t: number): number {
  let oldest = Infinity;
  for (const e of events)
    if (e.committed <= t && (e.reflected === undefined || e.reflected > t) && e.committed < oldest)
      oldest = e.committed;
  return oldest === Infinity ? 0 : t - oldest;
}

const NO_BUS: Judgement = { unavailable: 'the run did not read orders.events (no start offsets on this target)' };

/** read-your-writes: every order read back by its customer right after its 201 was there, with its items. */
export function readYourWrites(ev: RunEvidence): Judgement {
  const reads = ev.records.filter((r) => r.route === LOAD_ROUTES.getOrder);
  const stale = reads.filter((r) => r.stale !== undefined);
  const w = ev.window;
  const duringFault = reads.filter(
    (r) => w.injectedAt !== undefined && w.healedAt !== undefined && r.t >= w.injectedAt && r.t <= w.healedAt,
  );
  return {
    population: reads.length,
    of: 'orders read back (GET /v1/orders/{id}) by their customer the moment their 201 arrived',
    ok: stale.length === 0,
    detail: `${reads.length} read-backs (${duringFault.length} while the fault held): ${stale.length} did not return the order just placed; p99 ${Math.round(
      percentile(
        reads.map((r) => r.ms),
        99,
      ),
    )} ms`,
    damage: sample(stale.map((r) => `order ${r.orderId} read back at ${r.t} ms: ${r.stale}`)),
  };
}

/**
 * eventual-read-converges: every outcome reached the feed within `maxMs` of the heal (committed while the fault
 * held) or of its commit (after it). The detail gives the staleness window: the feed's worst staleness during the
 * fault, and how long after the heal it was back to its steady-state staleness.
 */
export async function eventualReadConverges(ev: RunEvidence, maxMs: number): Promise<Judgement> {
  const { injectedAt, healedAt } = ev.window;
  if (injectedAt === undefined || healedAt === undefined)
    return { unavailable: 'the fault window did not happen (no injection and heal recorded)' };
  const events = await reflectionsOf(ev);
  if (!events) return NO_BUS;
  const outcomes = events.filter((e) => OUTCOMES.has(e.type));
  const lateness = outcomes.map((o) => ({
    ...o,
    late: o.reflected === undefined ? Infinity : o.reflected - Math.max(o.committed, healedAt),
  }));
  const late = lateness.filter((o) => o.late > maxMs).sort((a, b) => b.late - a.late);
  const grid = (from: number, to: number) =>
    Array.from({ length: Math.max(0, Math.floor((to - from) / 100)) + 1 }, (_, i) => from + i * 100);
  const steady = percentile(
    grid(Math.min(2000, injectedAt), injectedAt).map((t) => stalenessAt(events, t)),
    99,
  );
  const duringFault = Math.max(0, ...grid(injectedAt, healedAt).map((t) => stalenessAt(events, t)));
  const lastCommit = Math.max(healedAt, ...events.map((e) => e.committed));
  const stillStale = grid(healedAt, lastCommit).filter((t) => stalenessAt(events, t) > Math.max(2 * steady, 500));
  const backAfter = stillStale.length ? stillStale[stillStale.length - 1] + 100 - healedAt : 0;
  return {
    population: outcomes.length,
    of: "the run's order outcomes (orders' OrderConfirmed/OrderRejected outbox rows)",
    ok: late.length === 0,
    detail:
      `feed staleness (oldest order event committed and not yet in it): p99 ${Math.round(steady)} ms before the fault, up to ${Math.round(duringFault)} ms while it held, back to steady ${backAfter} ms after the heal; ` +
      `every outcome applied within ${maxMs} ms of the heal or of its commit: ${late.length} late (worst ${Math.round(Math.max(0, ...lateness.map((o) => o.late)))} ms)`,
    damage: sample(
      late.map((o) =>
        o.reflected === undefined
          ? `order ${o.orderId}: outcome never reached the feed`
          : `order ${o.orderId}: outcome reached the feed ${Math.round(o.late)} ms after ${o.committed < healedAt ? 'the heal' : 'its commit'}`,
      ),
    ),
  };
}

/**
 * as-of-honest: what the feed says about its own age (Data-As-Of) is true and useful. True: no order event committed
 * at or before the as-of (less `toleranceMs`) was missing from the feed when the answer came back. Useful: the age it
 * reports (now − as-of) is at most `maxMs` above the staleness measured from the databases, once the load runs
 * (the first 2 s are left out: the marks date from before the run) and outside the catch-up after the heal. Without
 * a poll during the fault that found the feed stale, the claim was never put to the test: no evidence.
 */
export async function asOfHonest(ev: RunEvidence, toleranceMs: number, maxMs: number): Promise<Judgement> {
  const { injectedAt, healedAt } = ev.window;
  if (injectedAt === undefined || healedAt === undefined)
    return { unavailable: 'the fault window did not happen (no injection and heal recorded)' };
  const polls = ev.records.filter((r) => r.route === LOAD_ROUTES.notifications && r.status === 200);
  const dated = polls.filter((r) => r.asOf !== undefined && r.t >= 2000);
  const events = await reflectionsOf(ev);
  if (!events) return NO_BUS;
  const stale = dated.filter((r) => r.t >= injectedAt && r.t <= healedAt && stalenessAt(events, r.t) > toleranceMs);
  if (dated.length > 0 && stale.length === 0)
    return {
      unavailable: `no poll while the fault held found the feed stale by more than ${toleranceMs} ms: the as-of was never put to the test`,
    };
  // While the backlog drains after the heal, the relay's publish time says too little of when notifications skipped
  // an event: usefulness is not judged from the heal until the as-of passes it, which must happen within 5 s.
  const caughtUp = dated.find((r) => r.t > healedAt && (r.asOf as number) >= healedAt)?.t;
  // The same at the start: until the consumer has applied something of this run on every partition, the as-of is the
  // previous run's last event, however long ago that was (a mark cannot move without an event); it must enter the
  // run within 5 s of the load's start, and its usefulness is judged from then.
  const entered = dated.find((r) => (r.asOf as number) >= 0)?.t;
  const falseClaims: string[] = [];
  const pessimistic: string[] = [];
  if (caughtUp === undefined ? dated.some((r) => r.t > healedAt + 5000) : caughtUp > healedAt + 5000) {
    pessimistic.push(
      `the as-of did not pass the heal within 5 s of it (${caughtUp === undefined ? 'never' : `at ${caughtUp} ms`}): the feed's age stayed at the fault`,
    );
  }
  if (entered === undefined ? dated.some((r) => r.t > 5000) : entered > 5000) {
    pessimistic.push(
      `the as-of did not enter the run within 5 s of the load's start (${entered === undefined ? 'never' : `at ${entered} ms`}): the feed applied none of its events`,
    );
  }
  let worstUnder = 0;
  let worstOver = 0;
  for (const r of dated) {
    const asOf = r.asOf as number;
    const answeredBy = r.t + r.ms;
    const missing = events.filter(
      (e) => e.committed <= asOf - toleranceMs && (e.reflected === undefined || e.reflected > answeredBy),
    );
    if (missing.length > 0) {
      const under = Math.max(...missing.map((e) => asOf - e.committed));
      worstUnder = Math.max(worstUnder, under);
      falseClaims.push(
        `poll at ${r.t} ms said "as of ${asOf} ms" but ${missing.length} event(s) committed up to ${Math.round(under)} ms before that were not in it (e.g. ${missing[0].type} of order ${missing[0].orderId})`,
      );
    }
    if (r.t > healedAt && (caughtUp === undefined || r.t < caughtUp)) continue;
    if (entered === undefined || r.t < entered) continue;
    const over = r.t - asOf - stalenessAt(events, r.t);
    worstOver = Math.max(worstOver, over);
    if (over > maxMs)
      pessimistic.push(
        `poll at ${r.t} ms reported an age of ${Math.round(r.t - asOf)} ms; the feed was ${Math.round(stalenessAt(events, r.t))} ms stale`,
      );
  }
  return {
    population: dated.length,
    of: 'feed answers with a Data-As-Of, after the first 2 s of load',
    ok: falseClaims.length === 0 && pessimistic.length === 0,
    detail:
      `${polls.length} feed answers, ${dated.length} judged (${stale.length} while the fault held, the feed stale): ${falseClaims.length} claimed events it did not hold ` +
      `(worst ${Math.round(worstUnder)} ms, tolerance ${toleranceMs} ms); ${pessimistic.length} reported an age more than ${maxMs} ms above the measured staleness (worst ${Math.round(worstOver)} ms)`,
    damage: [...sample(falseClaims), ...sample(pessimistic)],
  };
}
