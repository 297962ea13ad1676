// Gateway p99 on GET /v1/recommendations, healthy vs during a 2 s recommendations stall with the breaker, in ONE run
// (not a test; prints numbers). Uses the resilience suite's lab (.lab/test-resilience, ports +2800), starting it with
// the real CLI if needed, and a gateway of its own whose recommendations edge goes through a fault proxy.
//
//   npm run build && node apps/gateway/bench/recommendations.bench.ts [requests=1000] [concurrency=8] [--down]
//
// Node 24 runs this file directly (type stripping); the proxy comes from the build (dist/). --down stops the lab at
// the end; without it the lab stays up for the next run (`LAB_STATE_DIR=.lab/test-resilience LAB_PORT_OFFSET=2800
// npx lab down` stops it).
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as FaultProxyLib from '@faultline/fault-proxy';

const root = process.cwd();
const load = createRequire(join(root, 'package.json'));
const { FaultProxy } = load('./dist/libs/fault-proxy/src/index.js') as typeof FaultProxyLib;

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const requests = Number(args[0] ?? '1000');
const concurrency = Number(args[1] ?? '8');
const down = process.argv.includes('--down');
const OFFSET = 2800;
const labEnv = { ...process.env, LAB_STATE_DIR: '.lab/test-resilience', LAB_PORT_OFFSET: String(OFFSET), LAB_GATEWAY_PORT: '' };
const lab = (...a: string[]) => execFileSync(process.execPath, [join(root, 'apps/lab/bin/lab.js'), ...a], { env: labEnv, encoding: 'utf8' });

async function main() {
  console.log('lab up (reused when running)…');
  lab('up');
  const token = lab('token', '--sub', 'bench', '--role', 'customer', '--tier', 'paid').trim();
  // The lab's own gateway environment (`lab env gateway`), with the recommendations edge moved onto a fault proxy.
  const labGatewayEnv = JSON.parse(lab('env', 'gateway', '--json')) as Record<string, string>;
  const [recsHost, recsPort] = labGatewayEnv['RECOMMENDATIONS_GRPC_ADDRESS'].split(':');
  const proxy = new FaultProxy({ listen: { host: '127.0.0.1', port: 0 }, target: { host: recsHost, port: Number(recsPort) } });
  await proxy.start();
  const port = 8080 + OFFSET + 9;
  const gateway = spawn(process.execPath, [join(root, 'dist/apps/gateway/src/main.js')], {
    env: {
      ...labGatewayEnv,
      PATH: process.env['PATH'] ?? '',
      LAB_STATE_DIR: '.lab/test-resilience',
      LOG_LEVEL: 'warn',
      HTTP_PORT: String(port),
      RECOMMENDATIONS_GRPC_ADDRESS: `127.0.0.1:${proxy.address().port}`,
      // The bench measures the breaker and the fallback, not the rate limiter (npm run bench:rate-limit does).
      ...Object.fromEntries(['FREE', 'PAID'].flatMap((t) => ['READ', 'WRITE'].flatMap((k) => [[`RATE_LIMIT_${t}_${k}_BURST`, '100000'], [`RATE_LIMIT_${t}_${k}_PER_MINUTE`, '6000000']]))),
    },
    stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}/v1/recommendations?limit=5`;
  try {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok).catch(() => false)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await run(url, token, 50); // warm-up: connections, JIT
    const healthy = await run(url, token, requests);
    proxy.set({ kind: 'latency', ms: 2_000 });
    // First batch: includes the calls that wait the 300 ms deadline until the breaker opens (volume threshold 10).
    const stalled = await run(url, token, requests);
    // Second batch, stall still on: the breaker is open (one half-open probe per reset timeout still waits).
    const open = await run(url, token, requests);
    proxy.set({ kind: 'none' });
    const row = (name: string, r: Result) =>
      `${name.padEnd(28)} n=${r.n}  p50=${r.p50.toFixed(1)} ms  p99=${r.p99.toFixed(1)} ms  max=${r.max.toFixed(1)} ms  sources=${JSON.stringify(r.sources)}`;
    console.log(`\nGET /v1/recommendations through the gateway, ${concurrency} concurrent clients`);
    console.log(row('healthy', healthy));
    console.log(row('2 s stall (breaker opening)', stalled));
    console.log(row('2 s stall (breaker open)', open));
    console.log(`p99 ratio stalled/healthy: ${(stalled.p99 / healthy.p99).toFixed(2)}× while opening, ${(open.p99 / healthy.p99).toFixed(2)}× once open; no request waited the 2 s stall (max ${Math.max(stalled.max, open.max).toFixed(0)} ms)`);
  } finally {
    gateway.kill('SIGTERM');
    await proxy.stop();
    if (down) lab('down');
  }
}

interface Result {
  n: number;
  p50: number;
  p99: number;
  max: number;
  sources: Record<string, number>;
}

async function run(url: string, token: string, total: number): Promise<Result> {
  const latencies: number[] = [];
  const sources: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const started = performance.now();
        const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        const body = (await response.json()) as { source?: string };
        latencies.push(performance.now() - started);
        const key = response.status === 200 ? String(body.source) : String(response.status);
        sources[key] = (sources[key] ?? 0) + 1;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
  return { n: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1], sources };
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
