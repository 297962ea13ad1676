// Rate limiting (docs/architecture.md, "Public REST contract") over HTTP against real gateway processes: two gateways
// sharing one Redis (the fleet case), with the rest of the lab (orders, inventory, …) started by the real CLI under
// .lab/test-ratelimit (ports +3200). The gateways' limiter talks to a Redis this suite starts itself, through a TCP
// proxy it controls, so Redis can be made slow (blackholed) or stopped without touching any shared Redis.
//
// Needs a built tree (`npm run build`): the gateways run dist/apps/gateway/src/main.js, exactly as the lab does.
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { eventually, labCli, repoRoot } from '@faultline/testing';
import { problemDetailsSchema } from '../src/errors/problem-details';

const OFFSET = 3200;
const LAB_ENV = { LAB_STATE_DIR: '.lab/test-ratelimit', LAB_PORT_OFFSET: String(OFFSET), LAB_GATEWAY_PORT: '' };
const lab = labCli(LAB_ENV).exec;
const GATEWAY_PORTS = [8081 + OFFSET, 8082 + OFFSET];
const GATEWAYS = GATEWAY_PORTS.map((port) => `http://127.0.0.1:${port}`);
const run = Date.now().toString(36);

// The limits the two gateways run with: small, so the edges are reachable in a test. Free reads refill one token a
// second (refill is observable quickly); paid reads refill one a minute (nothing refills during a concurrent burst,
// so "exactly capacity" is exact).
const LIMITS = {
  RATE_LIMIT_FREE_READ_BURST: 5,
  RATE_LIMIT_FREE_READ_PER_MINUTE: 60,
  RATE_LIMIT_PAID_READ_BURST: 20,
  RATE_LIMIT_PAID_READ_PER_MINUTE: 1,
  RATE_LIMIT_FREE_WRITE_BURST: 3,
  RATE_LIMIT_FREE_WRITE_PER_MINUTE: 60,
};
const FAIL_CLOSED_RETRY_AFTER = 2;

// A TCP proxy in front of the limiter's Redis, in a process of its own (so this suite's busy event loop never delays
// Redis answers): it forwards, or accepts and never answers (a hung Redis). Control on stdin: `forward` or
// `blackhole` (each also cuts the open connections, so clients reconnect into the new mode); it prints its port.
const EDGE_PROXY = `
const net = require('node:net');
const upstreamPort = Number(process.argv[1]);
let mode = 'forward';
const sockets = new Set();
const track = (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()); };
const server = net.createServer((client) => {
  track(client);
  if (mode === 'blackhole') return;
  const upstream = net.createConnection(upstreamPort, '127.0.0.1');
  track(upstream);
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  mode = line.trim();
  for (const s of sockets) s.destroy();
  console.log('mode ' + mode);
});
process.stdin.on('end', () => process.exit(0));
`;

class RedisEdge {
  private child?: ChildProcess;
  private lines: string[] = [];
  constructor(private readonly upstreamPort: number) {}

  async listen(): Promise<number> {
    this.child = spawn(process.execPath, ['-e', EDGE_PROXY, String(this.upstreamPort)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout
      ?.setEncoding('utf8')
      .on('data', (chunk: string) => this.lines.push(...chunk.split('\n').filter(Boolean)));
    const port = await eventually(
      'the Redis proxy to listen',
      async () => this.lines.find((l) => /^\d+$/.test(l)),
      10_000,
      20,
    );
    return Number(port);
  }

  /** Switches mode and cuts every open connection; resolves once the proxy has done both. */
  async set(mode: 'forward' | 'blackhole') {
    const seen = this.lines.length;
    this.child?.stdin?.write(`${mode}\n`);
    await eventually(
      `the Redis proxy to switch to ${mode}`,
      async () => this.lines.slice(seen).includes(`mode ${mode}`),
      5_000,
      10,
    );
  }

  async close() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

let redisServer: ChildProcess | undefined;
let redisPort: number;
let edge: RedisEdge;
const gateways: ChildProcess[] = [];
const tokens = new Map<string, string>();

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

async function startRedis(): Promise<void> {
  redisServer = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await eventually(
    'the limiter Redis to accept connections',
    () =>
      new Promise<boolean>((resolve) => {
        const socket = createConnection(redisPort, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    10_000,
    50,
  );
}

async function stopRedis(): Promise<void> {
  const server = redisServer;
  redisServer = undefined;
  if (!server || server.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGTERM');
  });
}

/** A second (and third) gateway of this lab: the environment `lab env gateway` prints, with our port and Redis. */
async function startGateway(port: number, limiterRedisUrl: string): Promise<ChildProcess> {
  const printed = await lab('env', 'gateway', '--json');
  if (printed.code !== 0) throw new Error(`lab env gateway failed: ${printed.stderr}`);
  const child = spawn(process.execPath, [join(repoRoot, 'dist/apps/gateway/src/main.js')], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ...(JSON.parse(printed.stdout) as Record<string, string>),
      LOG_LEVEL: 'error',
      HTTP_PORT: String(port),
      RATE_LIMIT_REDIS_URL: limiterRedisUrl,
      ...Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)])),
      RATE_LIMIT_FAIL_CLOSED_RETRY_AFTER_SECONDS: String(FAIL_CLOSED_RETRY_AFTER),
    },
  });
  gateways.push(child);
  return child;
}

/** A token from `lab token`, exactly as a user gets one (cached per sub). */
async function token(sub: string, tier: 'free' | 'paid' = 'free'): Promise<string> {
  const cached = tokens.get(`${sub}/${tier}`);
  if (cached) return cached;
  const result = await lab('token', '--sub', sub, '--tier', tier);
  if (result.code !== 0) throw new Error(`lab token failed: ${result.stderr}`);
  tokens.set(`${sub}/${tier}`, result.stdout.trim());
  return result.stdout.trim();
}

interface Answer {
  status: number;
  headers: Headers;
  json: unknown;
  ms: number;
}
async function call(
  gateway: string,
  method: string,
  path: string,
  bearer: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, ms };
}
const rateLimitHeaders = (a: Answer) => ({
  limit: a.headers.get('ratelimit-limit'),
  remaining: a.headers.get('ratelimit-remaining'),
  reset: a.headers.get('ratelimit-reset'),
});
const placeOrder = (gateway: string, bearer: string) =>
  call(
    gateway,
    'POST',
    '/v1/orders',
    bearer,
    { items: [{ sku: 'SKU-0001', quantity: 1 }] },
    { 'idempotency-key': randomUUID() },
  );

/** The value of rate_limit_decisions_total{route,decision} on one gateway (0 when absent). */
async function decisions(gateway: string, route: string, decision: string): Promise<number> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('rate_limit_decisions_total{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`decision="${decision}"`),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

beforeAll(async () => {
  const up = await lab('up');
  if (up.code !== 0) throw new Error(`lab up failed:\n${up.stderr}`);
  redisPort = await freePort();
  await startRedis();
  edge = new RedisEdge(redisPort);
  const edgePort = await edge.listen();
  for (const port of GATEWAY_PORTS) await startGateway(port, `redis://127.0.0.1:${edgePort}`);
  for (const gateway of GATEWAYS) {
    await eventually(`${gateway} to serve`, async () => (await fetch(`${gateway}/healthz`)).ok, 30_000);
  }
  // The limiter connects in the background: wait until both gateways' limiters answer (decision allowed).
  const warm = await token(`warmup-${run}`);
  for (const gateway of GATEWAYS) {
    await eventually(
      `${gateway}'s limiter to reach Redis`,
      async () => (await call(gateway, 'GET', '/v1/products/SKU-0001', warm)).headers.has('ratelimit-limit'),
      10_000,
      100,
    );
  }
}, 300_000);

afterAll(async () => {
  for (const child of gateways) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    gateways.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)),
  );
  await edge?.close();
  await stopRedis();
  // RATELIMIT_TEST_KEEP_LAB=1 keeps this suite's lab up between runs while iterating (`lab up` then reuses it).
  if (process.env.RATELIMIT_TEST_KEEP_LAB !== '1') await lab('down');
}, 120_000);

describe('bucket arithmetic over HTTP, one bucket shared by two gateways', () => {
  it('counts down RateLimit-Remaining, computes RateLimit-Reset, then 429 with Retry-After; refills after it', async () => {
    const bearer = await token(`alice-${run}`);
    const answers: Answer[] = [];
    // Alternate the two gateways: one bucket per (user, route) in the shared Redis, whichever gateway answers.
    for (let i = 0; i < LIMITS.RATE_LIMIT_FREE_READ_BURST + 1; i++)
      answers.push(await call(GATEWAYS[i % 2], 'GET', '/v1/products/SKU-0001', bearer));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers.map(rateLimitHeaders)).toEqual([
      // 1 token/s: after k tokens spent the bucket is full again in just under k s, rounded up.
      { limit: '5', remaining: '4', reset: '1' },
      { limit: '5', remaining: '3', reset: '2' },
      { limit: '5', remaining: '2', reset: '3' },
      { limit: '5', remaining: '1', reset: '4' },
      { limit: '5', remaining: '0', reset: '5' },
      { limit: '5', remaining: '0', reset: '5' },
    ]);
    const limited = answers[5];
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(problemDetailsSchema.parse(limited.json)).toMatchObject({
      status: 429,
      type: 'urn:faultline:problem:too-many-requests',
    });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBe(1); // just under one token's time at 1 token/s, rounded up

    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    const again = await call(GATEWAYS[1], 'GET', '/v1/products/SKU-0001', bearer);
    expect(again.status).toBe(200);
    expect(rateLimitHeaders(again)).toMatchObject({ limit: '5', remaining: '0' });
    expect((await call(GATEWAYS[0], 'GET', '/v1/products/SKU-0001', bearer)).status).toBe(429);
  });

  it('sets the headers on error answers of a limited route too, and buckets are per route', async () => {
    const bearer = await token(`bob-${run}`);
    const missing = await call(GATEWAYS[0], 'GET', '/v1/products/SKU-9999', bearer);
    expect(missing.status).toBe(404);
    expect(rateLimitHeaders(missing)).toEqual({ limit: '5', remaining: '4', reset: '1' });
    // Another route template, another bucket.
    const list = await call(GATEWAYS[1], 'GET', '/v1/products', bearer);
    expect(list.status).toBe(200);
    expect(rateLimitHeaders(list)).toEqual({ limit: '5', remaining: '4', reset: '1' });
  });

  it('tiers differ: a paid token gets the paid bucket', async () => {
    const paid = await call(GATEWAYS[0], 'GET', '/v1/products/SKU-0001', await token(`carol-${run}`, 'paid'));
    const free = await call(GATEWAYS[0], 'GET', '/v1/products/SKU-0001', await token(`dave-${run}`, 'free'));
    expect(rateLimitHeaders(paid)).toMatchObject({ limit: '20', remaining: '19' });
    expect(rateLimitHeaders(free)).toMatchObject({ limit: '5', remaining: '4' });
    // One token a minute: 60 s until full again after one spent.
    expect(rateLimitHeaders(paid).reset).toBe('60');
  });
});

describe('the fleet case under concurrency', () => {
  it('200 concurrent requests, split over two gateways, against a bucket of 20: the bucket lets exactly its 20 through', async () => {
    const bearer = await token(`erin-${run}`, 'paid');
    const failOpen = () => Promise.all(GATEWAYS.map((g) => decisions(g, 'GET /v1/products/:sku', 'fail_open')));
    const failOpenBefore = await failOpen();
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => call(GATEWAYS[i % 2], 'GET', '/v1/products/SKU-0001', bearer)),
    );
    const byStatus = answers.reduce<Record<number, number>>(
      (acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }),
      {},
    );
    // A request the limiter could not decide within its deadline (two gateways sharing 2 cores under a burst
    // of 200, seen in CI: 2 of 200) is let through by the GET routes' fail-open policy and counted as fail_open.
    // Its script may or may not have reached Redis, so it may or may not have taken a token. What must hold: the
    // bucket itself never hands out more than it holds, and every answer beyond it is an accounted fail-open.
    const after = await failOpen();
    const opened = after.reduce((sum, n, i) => sum + n - failOpenBefore[i], 0);
    const capacity = LIMITS.RATE_LIMIT_PAID_READ_BURST;
    expect(opened).toBeLessThanOrEqual(10); // a handful at most, or the deadline is wrong for this machine
    expect(Object.keys(byStatus).sort()).toEqual(['200', '429']);
    expect(byStatus[200]).toBeGreaterThanOrEqual(capacity);
    expect(byStatus[200]).toBeLessThanOrEqual(capacity + opened);
    // Each remaining count was handed out at most once across both gateways, and only 19 … 0 exist.
    const remaining = answers
      .filter((a) => a.status === 200 && a.headers.get('ratelimit-remaining') !== null)
      .map((a) => Number(a.headers.get('ratelimit-remaining')));
    expect(remaining).toHaveLength(byStatus[200] - opened);
    expect(new Set(remaining).size).toBe(remaining.length);
    expect(remaining.every((r) => Number.isInteger(r) && r >= 0 && r < capacity)).toBe(true);
    if (opened === 0) expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: capacity }, (_, i) => i));
  });
});

describe('Redis slow or stopped: per-route failure policy, answered fast', () => {
  const MUST_ANSWER_WITHIN_MS = 500;

  async function expectPolicies(label: string) {
    const bearer = await token(`frank-${run}-${label}`);
    const openBefore = await decisions(GATEWAYS[0], 'GET /v1/products/:sku', 'fail_open');
    const closedBefore = await decisions(GATEWAYS[1], 'POST /v1/orders', 'fail_closed');
    const reads: Answer[] = [];
    const writes: Answer[] = [];
    for (let i = 0; i < 10; i++) {
      reads.push(await call(GATEWAYS[0], 'GET', '/v1/products/SKU-0001', bearer));
      writes.push(await placeOrder(GATEWAYS[1], bearer));
    }
    // GET fails open: served, with no invented RateLimit-* values.
    expect(reads.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(reads.every((a) => !a.headers.has('ratelimit-limit'))).toBe(true);
    // POST /v1/orders fails closed: 503 problem + Retry-After.
    expect(writes.map((a) => a.status)).toEqual(Array(10).fill(503));
    for (const w of writes) {
      expect(problemDetailsSchema.parse(w.json)).toMatchObject({
        status: 503,
        type: 'urn:faultline:problem:unavailable',
      });
      expect(w.headers.get('retry-after')).toBe(String(FAIL_CLOSED_RETRY_AFTER));
    }
    const slowest = Math.max(...reads.map((a) => a.ms), ...writes.map((a) => a.ms));
    console.log(
      `${label}: slowest of 20 answers ${slowest.toFixed(1)} ms (reads ${reads.map((a) => a.ms.toFixed(0)).join(',')} ms; writes ${writes.map((a) => a.ms.toFixed(0)).join(',')} ms)`,
    );
    expect(slowest).toBeLessThan(MUST_ANSWER_WITHIN_MS);
    expect(await decisions(GATEWAYS[0], 'GET /v1/products/:sku', 'fail_open')).toBe(openBefore + 10);
    expect(await decisions(GATEWAYS[1], 'POST /v1/orders', 'fail_closed')).toBe(closedBefore + 10);
  }

  async function expectLimiterBack() {
    const bearer = await token(`grace-${run}-${Date.now()}`);
    await eventually(
      'the limiter to answer again',
      async () => {
        const answers = await Promise.all(GATEWAYS.map((g) => call(g, 'GET', '/v1/products/SKU-0001', bearer)));
        return answers.every((a) => a.status === 200 && a.headers.has('ratelimit-limit'));
      },
      10_000,
      100,
    );
  }

  it('Redis hangs (connections blackholed): GET fails open, POST /v1/orders fails closed, each well under 500 ms', async () => {
    await edge.set('blackhole'); // the gateways reconnect into the blackhole
    try {
      await expectPolicies('blackholed');
    } finally {
      await edge.set('forward');
    }
    await expectLimiterBack();
  });

  it('Redis stopped: GET fails open, POST /v1/orders fails closed, each well under 500 ms', async () => {
    await stopRedis();
    try {
      await expectPolicies('stopped');
    } finally {
      await startRedis();
    }
    await expectLimiterBack();
  });
});
