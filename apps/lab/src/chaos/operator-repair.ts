// The operator's step of incident-repair, on either target: which of the run's orders were lost (PENDING with no
// OrderPlaced, or final with no outcome event, on orders.events since the run began: evidence the repair does not
// produce), what `lab reconcile` names among the run's orders, the first `lab reconcile --repair`, convergence, and
// a second repair that must find nothing. repair-exact (checks.ts) judges the facts this returns.
import type { RepairedEvent } from '@faultline/reconciliation';
import type { BusMessage, SqlQuery } from './evidence';
import { customerPattern } from './evidence';
import { formatRepair, reconcileWith, repairableIds, repairWith, type ServiceDatabases } from './reconcile';

/** Waits until the pipeline converged, for the run's convergence timeout plus `extraS`; false if it never did. */
export type Converge = (extraS?: number) => Promise<boolean>;

/**
 * What the saga settles on this machine class and more (the gateway admits 25 writes/s): a repair's time to converge.
 */
const REPAIRED_ORDERS_PER_S = 20;

export interface RepairFacts {
  lost: string[];
  named: string[];
  first: RepairedEvent[];
  converged: boolean;
  second: RepairedEvent[];
}

export async function operatorRepair(options: {
  sql: SqlQuery;
  bus: () => Promise<BusMessage[]>;
  databases: ServiceDatabases;
  runId: string;
  graceS: number;
  converge: Converge;
  log: (message: string) => void;
}): Promise<RepairFacts> {
  const { sql, databases, runId, graceS, log } = options;
  log("now the operator's step: lab reconcile, then lab reconcile --repair");
  // Lost: a PENDING order whose OrderPlaced, or a final order whose outcome event, never reached orders.events.
  const orders = (
    await sql('orders', 'SELECT id::text AS id, status FROM orders WHERE customer_id LIKE $1', [customerPattern(runId)])
  ).map((r) => ({ id: String(r['id']), status: String(r['status']) }));
  const bus = await options.bus();
  const seen = (type: string) => new Set(bus.filter((m) => m.type === type).map((m) => m.key));
  const placed = seen('OrderPlaced');
  const outcome = new Set([...seen('OrderConfirmed'), ...seen('OrderRejected')]);
  const lost = orders
    .filter((o) => (o.status === 'PENDING' ? !placed.has(o.id) : !outcome.has(o.id)))
    .map((o) => o.id)
    .sort();
  const runIds = new Set(orders.map((o) => o.id));
  const named = repairableIds(await reconcileWith(databases, { graceS })).filter((id) => runIds.has(id));
  log(`reconcile names ${named.length} of the run's orders; ${lost.length} were lost`);
  const first = await repairWith(databases.orders, named);
  log(`repair: ${formatRepair(first)}`);
  // Each republished order runs its saga again: a thousand of them take the pipeline most of a minute here.
  const converged = await options.converge(Math.ceil(first.length / REPAIRED_ORDERS_PER_S));
  const again = repairableIds(await reconcileWith(databases, { graceS })).filter((id) => runIds.has(id));
  const second = await repairWith(databases.orders, again);
  log(`second repair: ${formatRepair(second)}`);
  return { lost, named, first, converged, second };
}
