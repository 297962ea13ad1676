// `lab load` and the load of every chaos run: an open-model generator (requests start on a fixed schedule whatever
// the answers' latency, so a slow dependency shows up as latency instead of silently lowering the rate), many
// customers' tokens (paid tier, so rate limits stay out of the way), an Idempotency-Key per order, and every
// request's timing recorded.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken, type TokenSigner } from './tokens';
/** What a load sends: each mix is a schedule of the routes below (the switch in `runLoad`). */
export const LOAD_MIXES = [
  'orders',
  'recommendations',
  'recommendations-and-orders',
  'products-and-orders',
  'last-item',
  'list-orders',
  'orders-read-back',
] as const;
export type LoadMix = (typeof LOAD_MIXES)[number];

/** The routes the load calls, named as the gateway names its HTTP spans (method and Express route). */
export const LOAD_ROUTES = {
  placeOrder: 'POST /v1/orders',
  recommendations: 'GET /v1/recommendations',
  product: 'GET /v1/products/:sku',
  listOrders: 'GET /v1/orders',
  getOrder: 'GET /v1/orders/:id',
  notifications: 'GET /v1/notifications',
} as const;

export interface RequestRecord {
  /** ms since the load started, when the request was scheduled. */
  t: number;
  route: string;
  status: number;
  ms: number;
  error?: string;
  /** POST /v1/orders: the key, the order id answered, attempt number, and whether the answer was a replay. */
  key?: string;
  customer?: string;
  orderId?: string;
  attempt?: number;
  replayed?: boolean;
  retryAfter?: boolean;
  /** The answer was `application/problem+json` (every refusal must be). */
  problem?: boolean;
  /** GET /v1/recommendations: live or fallback. */
  source?: string;
  /** GET /v1/orders: orders on the page, and the SQL queries orders made for it (the gateway's X-Query-Count). */
  items?: number;
  queries?: number;
  /** GET /v1/orders/:id right after its 201: why the answer was not the order just placed (absent: it was). */
  stale?: string;
  /** GET /v1/notifications: its Data-As-Of, in ms since the load started (absent: the header was). */
  asOf?: number;
}

export interface LoadOptions {
  baseUrl: string;
  mix: LoadMix;
  rate: number;
  durationS: number;
  customers: number;
  clientTimeoutMs?: number;
  retries?: number;
  retryBackoffMs?: number;
  sku?: string;
  buyers?: number;
  /** Called about once a second. */
  onProgress?: (p: { elapsedS: number; sent: number; done: number; errors: number; inFlight: number }) => void;
  /** Caps requests in flight; beyond it a request is recorded as dropped (status 0) rather than queued. */
  maxInFlight?: number;
  runId?: string;
  /** Called once, with the epoch ms the schedule starts from (after the tokens are signed). */
  onStart?: (startedAt: number) => void;
  /** Ends the schedule early (requests in flight still complete): for load that lasts "while something runs". */
  signal?: AbortSignal;
  /** list-orders: orders each customer places before the schedule starts, so every page it lists is full. */
  seedOrders?: number;
}

export interface LoadResult {
  startedAt: number;
  records: RequestRecord[];
}

export async function customerTokens(
  signer: TokenSigner,
  count: number,
  runId: string,
): Promise<{ sub: string; token: string }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const sub = `chaos-${runId}-${String(i + 1).padStart(3, '0')}`;
      return { sub, token: await mintToken(signer, { sub, role: 'customer', tier: 'paid', ttl: '7200' }) };
    }),
  );
}

/** The SKUs the order mixes buy from, in turn (SKU-0041 … SKU-0050 are left to last-item). */
export const LOAD_SKU_COUNT = 40;
export const loadSku = (i: number) => `SKU-${String((i % LOAD_SKU_COUNT) + 1).padStart(4, '0')}`;
const sku = loadSku;

async function call(
  url: string,
  init: RequestInit & { timeoutMs: number },
): Promise<{ status: number; ms: number; body: unknown; headers?: Headers; error?: string }> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: response.status, ms: performance.now() - started, body, headers: response.headers };
  } catch (error) {
    const name = (error as Error).name;
    return {
      status: 0,
      ms: performance.now() - started,
      body: undefined,
      error: name === 'TimeoutError' ? 'client timeout' : (error as Error).message,
    };
  }
}

/** Signs `options.customers` customers' tokens with `signer`, then sends the mix on its schedule. */
export async function runLoad(signer: TokenSigner, options: LoadOptions): Promise<LoadResult> {
  const runId = options.runId ?? randomUUID().slice(0, 8);
  const tokens = await customerTokens(signer, options.customers, runId);
  const records: RequestRecord[] = [];
  const timeoutMs = options.clientTimeoutMs ?? 5000;
  const maxInFlight = options.maxInFlight ?? 400;
  let inFlight = 0;
  let sent = 0;
  if (options.mix === 'list-orders')
    await seedOrders(options.baseUrl, tokens, options.seedOrders ?? 50, runId, timeoutMs);
  const startedAt = Date.now();
  options.onStart?.(startedAt);

  const readBack = options.mix === 'orders-read-back';
  // Read-your-writes: the order, read back by its customer the moment its 201 arrived, must be there, whole.
  const readOwnOrder = async (
    customer: { sub: string; token: string },
    orderId: string,
    items: { sku: string; quantity: number }[],
  ) => {
    const t = Date.now() - startedAt;
    const r = await call(`${options.baseUrl}/v1/orders/${orderId}`, {
      headers: { authorization: `Bearer ${customer.token}` },
      timeoutMs,
    });
    const body = r.body as { id?: string; items?: { sku: string; quantity: number }[] } | undefined;
    const same =
      r.status === 200 &&
      body?.id === orderId &&
      JSON.stringify(body.items?.map((l) => [l.sku, l.quantity])) ===
        JSON.stringify(items.map((l) => [l.sku, l.quantity]));
    records.push({
      t,
      route: LOAD_ROUTES.getOrder,
      status: r.status,
      ms: r.ms,
      ...(r.error ? { error: r.error } : {}),
      customer: customer.sub,
      orderId,
      ...(same
        ? {}
        : {
            stale:
              r.status === 200
                ? 'the answer is not the order placed (other id or items)'
                : `HTTP ${r.status}${r.error ? ` (${r.error})` : ''}`,
          }),
    });
  };
  // The eventually consistent read: a customer's notification feed, with how current it says it is.
  const readFeed = async (i: number, t: number) => {
    const r = await call(`${options.baseUrl}/v1/notifications?limit=20`, {
      headers: { authorization: `Bearer ${tokens[i % tokens.length].token}` },
      timeoutMs,
    });
    const asOf = Date.parse(r.headers?.get('data-as-of') ?? '');
    records.push({
      t,
      route: LOAD_ROUTES.notifications,
      status: r.status,
      ms: r.ms,
      ...(r.error ? { error: r.error } : {}),
      customer: tokens[i % tokens.length].sub,
      ...(Number.isFinite(asOf) ? { asOf: asOf - startedAt } : {}),
    });
  };

  const placeOrder = async (i: number, t: number, items = [{ sku: options.sku ?? sku(i), quantity: 1 }]) => {
    const customer = tokens[i % tokens.length];
    const key = `${runId}-${i}`;
    const body = JSON.stringify({ items });
    for (let attempt = 1; attempt <= 1 + (options.retries ?? 0); attempt++) {
      const r = await call(`${options.baseUrl}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${customer.token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body,
        timeoutMs,
      });
      const orderId = r.status === 201 || r.status === 200 ? (r.body as { id?: string })?.id : undefined;
      records.push({
        t: attempt === 1 ? t : Date.now() - startedAt,
        route: LOAD_ROUTES.placeOrder,
        status: r.status,
        ms: r.ms,
        ...(r.error ? { error: r.error } : {}),
        key,
        customer: customer.sub,
        attempt,
        ...(orderId ? { orderId } : {}),
        replayed: r.headers?.get('idempotent-replayed') === 'true',
        retryAfter: r.headers?.has('retry-after') ?? false,
        problem: r.headers?.get('content-type')?.startsWith('application/problem+json') ?? false,
      });
      if (readBack && r.status === 201 && orderId) await readOwnOrder(customer, orderId, items);
      // Retry only what a client would: a timeout or an in-flight conflict, with the SAME key.
      if (!(r.status === 0 || r.status === 409) || attempt > (options.retries ?? 0)) break;
      await sleep(options.retryBackoffMs ?? 500);
    }
  };
  const get = async (path: string, route: string, i: number, t: number) => {
    const r = await call(`${options.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${tokens[i % tokens.length].token}` },
      timeoutMs,
    });
    const body = r.body as { source?: string; items?: unknown[] } | undefined;
    const source = body?.source;
    const queries = r.headers?.get('x-query-count');
    records.push({
      t,
      route,
      status: r.status,
      ms: r.ms,
      ...(r.error ? { error: r.error } : {}),
      ...(source ? { source } : {}),
      ...(queries ? { queries: Number(queries), items: Array.isArray(body?.items) ? body.items.length : 0 } : {}),
    });
  };

  const one = async (i: number, t: number) => {
    switch (options.mix) {
      case 'orders':
      case 'last-item':
        return placeOrder(i, t);
      case 'recommendations':
        return get('/v1/recommendations?limit=5', LOAD_ROUTES.recommendations, i, t);
      case 'recommendations-and-orders':
        return i % 4 === 3 ? placeOrder(i, t) : get('/v1/recommendations?limit=5', LOAD_ROUTES.recommendations, i, t);
      case 'products-and-orders':
        return i % 2 === 1 ? placeOrder(i, t) : get(`/v1/products/${sku(i)}`, LOAD_ROUTES.product, i, t);
      case 'list-orders':
        return get('/v1/orders?limit=50', LOAD_ROUTES.listOrders, i, t);
      case 'orders-read-back':
        // Every tick an order (read back at once) and another customer's feed.
        await Promise.all([placeOrder(i, t), readFeed(i + 1, t)]);
        return;
    }
  };

  const pending: Promise<void>[] = [];
  let lastProgress = Date.now();
  const progress = () => {
    if (!options.onProgress || Date.now() - lastProgress < 1000) return;
    lastProgress = Date.now();
    options.onProgress({
      elapsedS: Math.round((Date.now() - startedAt) / 1000),
      sent,
      done: records.length,
      errors: records.filter((r) => r.status === 0 || r.status >= 500).length,
      inFlight,
    });
  };
  if (options.mix === 'last-item') {
    // Every buyer at once.
    for (let i = 0; i < (options.buyers ?? 50); i++) {
      sent++;
      pending.push(placeOrder(i, 0));
    }
  } else {
    const total = Math.round(options.rate * options.durationS);
    for (let i = 0; i < total; i++) {
      const due = startedAt + (i * 1000) / options.rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) break;
      progress();
      const t = Date.now() - startedAt;
      sent++;
      if (inFlight >= maxInFlight) {
        records.push({ t, route: 'dropped', status: 0, ms: 0, error: 'generator: too many requests in flight' });
        continue;
      }
      inFlight++;
      pending.push(
        one(i, t).finally(() => {
          inFlight--;
        }),
      );
    }
  }
  while (inFlight > 0 && options.onProgress) {
    await sleep(500);
    progress();
  }
  await Promise.all(pending);
  return { startedAt, records };
}

/**
 * Places `perCustomer` orders for each customer through the API (10 at a time), so that they have pages to list, and
 * waits for their saga to end.
 */
async function seedOrders(
  baseUrl: string,
  tokens: { sub: string; token: string }[],
  perCustomer: number,
  runId: string,
  timeoutMs: number,
): Promise<void> {
  const jobs = tokens.flatMap((customer) => Array.from({ length: perCustomer }, (_, i) => ({ customer, i })));
  // One order, with its Idempotency-Key: a retry of an order that was in fact placed is a replay, never a second one.
  const place = (customer: { sub: string; token: string }, i: number) =>
    retryRefused(() =>
      call(`${baseUrl}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${customer.token}`,
          'content-type': 'application/json',
          'idempotency-key': `${runId}-seed-${customer.sub}-${i}`,
        },
        body: JSON.stringify({ items: [{ sku: sku(i), quantity: 1 }] }),
        timeoutMs,
      }),
    );
  for (let start = 0; start < jobs.length; start += 10) {
    const answers = await Promise.all(jobs.slice(start, start + 10).map(({ customer, i }) => place(customer, i)));
    const failed = answers.find((a) => a.status !== 201 && a.status !== 200);
    if (failed)
      throw new Error(
        `seeding orders to list failed: HTTP ${failed.status} ${failed.error ?? JSON.stringify(failed.body)}`,
      );
  }
  // The saga of the seeded orders runs in orders too: it must be over before the schedule starts, or its statements
  // would be counted with the listing's.
  const deadline = Date.now() + 60_000;
  for (const customer of tokens) {
    for (;;) {
      const page = await call(`${baseUrl}/v1/orders?limit=100`, {
        headers: { authorization: `Bearer ${customer.token}` },
        timeoutMs,
      });
      const items = (page.body as { items?: { status: string }[] } | undefined)?.items ?? [];
      if (page.status === 200 && items.length >= perCustomer && items.every((o) => o.status !== 'PENDING')) break;
      if (Date.now() > deadline)
        throw new Error(`the ${perCustomer} orders seeded for ${customer.sub} were not all final within 60 s`);
      await sleep(250);
    }
  }
}

/**
 * The lab's own setup requests (seeding, restocking), sent again after the Retry-After of a refusal for now (429, or
 * 503 from load shedding), `attempts` times in all; any other answer, or the last, is returned as it is.
 */
export async function retryRefused<R extends { status: number; headers?: Headers }>(
  send: () => Promise<R>,
  attempts = 5,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const answer = await send();
    const retryAfterS = Number(answer.headers?.get('retry-after'));
    if (!((answer.status === 429 || answer.status === 503) && retryAfterS > 0 && attempt < attempts)) return answer;
    await sleep(Math.min(retryAfterS, 10) * 1000);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(
  records: RequestRecord[],
): Record<string, { n: number; ok: number; errors: number; p50: number; p99: number }> {
  const byRoute = new Map<string, RequestRecord[]>();
  for (const r of records) byRoute.set(r.route, [...(byRoute.get(r.route) ?? []), r]);
  return Object.fromEntries(
    [...byRoute].map(([route, rs]) => [
      route,
      {
        n: rs.length,
        ok: rs.filter((r) => r.status >= 200 && r.status < 300).length,
        errors: rs.filter((r) => r.status === 0 || r.status >= 500).length,
        p50: Math.round(
          percentile(
            rs.map((r) => r.ms),
            50,
          ),
        ),
        p99: Math.round(
          percentile(
            rs.map((r) => r.ms),
            99,
          ),
        ),
      },
    ]),
  );
}
