// The order transaction two ways: through the gateway (REST → gRPC → orders), and raw, the same statements orders
// runs (customer, order, item, idempotency record, outbox row) sent straight to Postgres.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Pool, PoolClient } from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '@faultline/database';
import { findPostgresBinDir, postgresUrl } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';
import { waitFor } from '../process/wait-for';

export const orderItems = (i: number) => [{ sku: `SKU-${String((i % 50) + 1).padStart(4, '0')}`, quantity: 1 }];

/** One order as orders writes it, in one transaction; returns the order id. */
export async function rawOrderTransaction(
  client: PoolClient,
  i: number,
  customerPrefix = 'bench-raw',
): Promise<string> {
  const id = randomUUID();
  const customer = `${customerPrefix}-${(i % 200) + 1}`;
  const items = orderItems(i);
  const order = { id, customerId: customer, status: 'PENDING', items, createdAt: new Date().toISOString() };
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))", [
      customer,
      `key-${id}`,
    ]);
    await client.query('SELECT request_hash FROM idempotency_keys WHERE customer_id = $1 AND key = $2', [
      customer,
      `key-${id}`,
    ]);
    await client.query('INSERT INTO customers (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [customer]);
    await client.query(
      "INSERT INTO orders (id, customer_id, status, item_count, created_at, updated_at) VALUES ($1, $2, 'PENDING', 1, now(), now())",
      [id, customer],
    );
    await client.query('INSERT INTO order_items (order_id, line, sku, quantity) VALUES ($1, 1, $2, 1)', [
      id,
      items[0].sku,
    ]);
    await client.query(
      "INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, payload) VALUES ($1, 'Order', $2, 'OrderPlaced', 1, $3)",
      [randomUUID(), id, JSON.stringify({ orderId: id, customerId: customer, items, placedAt: order.createdAt })],
    );
    await client.query(
      "INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id, response_status, response_body, expires_at) VALUES ($1, $2, $3, $4, 201, $5, now() + interval '24 hours')",
      [customer, `key-${id}`, '0'.repeat(64), id, JSON.stringify(order)],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return id;
}

/** A pool on `database` whose work function runs the raw order transaction. */
export function rawOrders(layout: LabLayout, database: string, connections: number) {
  const pool = new Pool({ connectionString: postgresUrl(layout, database), max: connections });
  return {
    async place(i: number, customerPrefix?: string): Promise<string> {
      const client = await pool.connect();
      try {
        return await rawOrderTransaction(client, i, customerPrefix);
      } finally {
        client.release();
      }
    },
    end: () => pool.end(),
  };
}

/**
 * A database with the exact schema orders runs with, copied without data: `bench_raw` (no publication, so nothing
 * relays it and no consumer sees its orders: the raw baseline pays for the transaction and nothing else), or, with
 * `publication`, `bench_relay`, the source of the bench's second relay. Whatever an earlier suite left under that
 * name is dropped first.
 */
export async function createScratchOrdersDatabase(
  layout: LabLayout,
  name: string,
  options: { publication?: boolean } = {},
): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase((database) => postgresUrl(layout, database), name);
  const bin = findPostgresBinDir();
  const dumpArgs = [
    '--schema-only',
    '--no-owner',
    ...(options.publication ? [] : ['--no-publications']),
    postgresUrl(layout, 'orders'),
  ];
  const schema = execFileSync(join(bin, 'pg_dump'), dumpArgs, { encoding: 'utf8' });
  execFileSync(join(bin, 'psql'), ['-q', '-v', 'ON_ERROR_STOP=1', scratch.url], {
    input: schema,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return scratch;
}

/** Answers other than 201 by status (503 shed, 429, 504…): at saturation they are part of the result. */
export type Refusals = Map<number, number>;

export async function placeOrderViaGateway(
  gateway: string,
  token: string,
  i: number,
  refusals: Refusals,
): Promise<string | undefined> {
  const response = await fetch(`${gateway}/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: orderItems(i) }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status === 201 && body.id) return body.id;
  if (response.status < 500 && response.status !== 429)
    throw new Error(`POST /v1/orders answered ${response.status}: ${JSON.stringify(body)}`);
  refusals.set(response.status, (refusals.get(response.status) ?? 0) + 1);
  return undefined;
}

/** Orders through the gateway as a load loop's work: operation i as customer i % tokens, accepted ids into `ids`. */
export function gatewayOrders(gateway: string, tokens: string[], refusals: Refusals) {
  return (ids: string[]) => async (i: number) => {
    const id = await placeOrderViaGateway(gateway, tokens[i % tokens.length], i, refusals);
    if (id) ids.push(id);
  };
}

/** `12× 503, 1× 429`: the refused answers by status. */
export const describeRefusals = (refusals: Refusals): string =>
  [...refusals].map(([status, n]) => `${n}× ${status}`).join(', ');

/** Awaits every one of these orders leaving PENDING (the saga's end); resolves with the time it saw that. */
export async function awaitFinal(
  sql: (text: string, params: unknown[]) => Promise<{ pending: number }[]>,
  ids: string[],
  timeoutMs = 180_000,
): Promise<number> {
  await waitFor(
    async () =>
      (
        await sql("SELECT count(*)::int AS pending FROM orders WHERE id = ANY($1::uuid[]) AND status = 'PENDING'", [
          ids,
        ])
      )[0].pending === 0,
    {
      description: `${ids.length} orders to reach CONFIRMED/REJECTED`,
      timeoutMs,
      intervalMs: 50,
    },
  );
  return performance.now();
}
