// Crash safety of the whole saga (docs/architecture.md, "Saga, outbox and inbox": at-least-once end to end,
// idempotent consumers): while 1,000 orders are placed, the orders relay is SIGKILLed twice (the supervisor restarts
// it, like a pod) and the Kafka broker is stopped and started once. Afterwards every order must reach a final state
// with exactly one notification, and the stock must add up. Runs on its own lab (.lab/test-crash, ports +3400).
import { eventually, LabComponent } from '@faultline/testing';
import { readJson, supervisorFiles, SupervisorState } from '../../src/supervisor/supervisor-files';
import { awaitFinal, counterSum, orderOf, placeOrderRequest, SagaLab, startSagaLab } from './saga-lab';

const ORDERS = 1000;
const CONCURRENCY = 20;
/** Orders are sent at a fixed rate (open model) so the faults below land in the middle of the load. */
const RATE_PER_SECOND = 30;
/** Orders placed after the last fault, so the pipeline is under load while it recovers from it. */
const AFTER_LAST_FAULT = 50;
/** A bound on the load, in case a fault never completes. */
const MAX_ORDERS = 4000;
let lab: SagaLab;

beforeAll(async () => {
  lab = await startSagaLab('.lab/test-crash', 3400);
}, 300_000);

afterAll(async () => {
  await lab?.close();
}, 120_000);

const component = async (name: string): Promise<LabComponent> => {
  const found = (await lab.cli.status()).find((c) => c.name === name);
  if (!found) throw new Error(`lab status does not list ${name}`);
  return found;
};

/** Kills the orders relay by the pid the supervisor reports (read from its state file: fast, unlike `lab status`). */
async function killRelay(previous?: number): Promise<number> {
  const pid = await eventually('the orders relay to be running', async () => {
    const running = readJson<SupervisorState>(supervisorFiles(lab.layout).state)?.services['outbox-relay-orders'];
    return running?.state === 'running' && running.pid && running.pid !== previous ? running.pid : undefined;
  });
  process.kill(pid, 'SIGKILL');
  return pid;
}

it(`loses nothing and duplicates nothing while the relay is killed twice and the broker restarted (${ORDERS}+ orders)`, async () => {
  // Units on the shelves plus units held by reservations: no order, duplicate or crash may change it.
  const STOCK_AND_RESERVED = `SELECT (SELECT sum(available) FROM products)::int + (SELECT coalesce(sum(i.quantity), 0) FROM reservation_items i
    JOIN reservations r USING (order_id) WHERE r.status = 'RESERVED')::int AS units, (SELECT min(available) FROM products)::int AS lowest`;
  const [before] = await lab.sql('inventory', STOCK_AND_RESERVED);
  const faults: string[] = [];
  let placed = 0;
  const ids: string[] = [];

  // The fault schedule runs beside the load, triggered by progress, and proves each fault really happened.
  const schedule = (async () => {
    const at = (n: number) => eventually(`${n} orders placed`, async () => placed >= n, 300_000, 50);
    await at(150);
    const firstKilled = await killRelay();
    faults.push(`relay killed (pid ${firstKilled}) at ${placed}`);
    await at(350);
    const stop = await lab.cli.exec('infra', 'stop', 'kafka');
    if (stop.code !== 0) throw new Error(`kafka stop failed: ${stop.stderr}`);
    faults.push(`kafka stopped at ${placed}`);
    await at(500);
    const start = await lab.cli.exec('infra', 'start', 'kafka');
    if (start.code !== 0) throw new Error(`kafka start failed: ${start.stderr}`);
    faults.push(`kafka started at ${placed}`);
    await at(750);
    faults.push(`relay killed (pid ${await killRelay(firstKilled)}) at ${placed}`);
    return placed;
  })();

  // The load goes on at a fixed rate until it has placed ORDERS orders AND the last fault is AFTER_LAST_FAULT orders
  // behind it: on a slow machine a broker restart takes longer, and the faults must still land inside the load.
  let faultsDone = false;
  let placedAtEnd = Number.POSITIVE_INFINITY;
  schedule.then(
    (n) => {
      faultsDone = true;
      placedAtEnd = Math.max(ORDERS, n + AFTER_LAST_FAULT);
    },
    () => {
      // A fault that could not be injected ends the load; `await schedule` below reports why.
      faultsDone = true;
      placedAtEnd = 0;
    },
  );
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (!faultsDone || next < placedAtEnd) {
        const i = next++;
        if (i >= MAX_ORDERS) throw new Error(`the fault schedule did not finish within ${MAX_ORDERS} orders`);
        const due = started + (i * 1000) / RATE_PER_SECOND;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const sku = `SKU-${String((i % 50) + 1).padStart(4, '0')}`;
        const response = await lab.orders.PlaceOrder(
          placeOrderRequest(`customer-${String((i % 200) + 1).padStart(4, '0')}`, [
            { sku, quantity: 1 + ((i + worker) % 2) },
          ]),
        );
        ids.push(orderOf(response).id);
        placed += 1;
      }
    }),
  );
  const placedAtLastFault = await schedule;
  expect(faults).toHaveLength(4);
  // Every fault happened while orders were still being placed, or the test proved nothing.
  if (placedAtLastFault >= placed) throw new Error(`the faults did not all land during the load: ${faults.join('; ')}`);
  expect(ids.length).toBeGreaterThanOrEqual(ORDERS);
  expect((await component('outbox-relay-orders')).restarts).toBeGreaterThanOrEqual(2);

  // Every order reaches a final state…
  const final = await awaitFinal(lab, ids, 240_000);
  expect(final.size).toBe(ids.length);

  // …and has exactly one notification (the inbox absorbs redeliveries; UNIQUE(order_id) stands behind it).
  const notified = await eventually(
    'one notification per order',
    async () => {
      const [row] = await lab.sql(
        'notifications',
        'SELECT count(*)::int AS n, count(DISTINCT order_id)::int AS orders FROM notifications WHERE order_id = ANY($1::uuid[])',
        [ids],
      );
      return row['n'] === ids.length ? row : undefined;
    },
    120_000,
  );
  expect(notified['orders']).toBe(ids.length);
  const kinds = await lab.sql(
    'notifications',
    `SELECT count(*)::int AS n FROM notifications n WHERE order_id = ANY($1::uuid[]) AND kind <> $2`,
    [ids, 'ORDER_CONFIRMED'],
  );
  const rejected = [...final.values()].filter((s) => s === 'REJECTED').length;
  expect(kinds[0]['n']).toBe(rejected);

  // Stock adds up: what left the shelves is exactly what reservations hold (counted over the whole lab, so orders
  // a previous run left in flight, finishing now, are counted on both sides), and nothing went negative.
  const [after] = await lab.sql('inventory', STOCK_AND_RESERVED);
  expect(after['units']).toBe(before['units']);
  expect(Number(after['lowest'])).toBeGreaterThanOrEqual(0);
  const [reservedNow] = await lab.sql(
    'inventory',
    'SELECT count(*)::int AS reservations FROM reservations WHERE order_id = ANY($1::uuid[])',
    [ids],
  );
  // Every order of this run was answered by inventory exactly once (reservations.order_id is the primary key).
  expect(reservedNow['reservations']).toBe(ids.length);

  const ports = lab.layout.ports;
  const duplicates = {
    inventory: await counterSum(ports.inventoryHttp, 'inbox_duplicates_total'),
    orders: await counterSum(ports.ordersHttp, 'inbox_duplicates_total'),
    notifications: await counterSum(ports.notificationsHttp, 'inbox_duplicates_total'),
  };
  // The report the issue asks for: how many redeliveries the inboxes absorbed (0 is a fine answer when the relay
  // acknowledged just before each kill; what matters is that none of them changed the data above).
  process.stdout.write(
    `crash safety: ${ids.length} orders, ${ids.length - rejected} confirmed, ${rejected} rejected; faults: ${faults.join('; ')}; duplicates absorbed by inboxes: ${JSON.stringify(duplicates)}\n`,
  );
}, 600_000);
