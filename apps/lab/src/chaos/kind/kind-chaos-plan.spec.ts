import { join } from 'node:path';
import { findRepoRoot } from '../../layout/lab-layout';
import { loadCatalog } from '../catalog';
import { poisonMessages } from '../poisons';
import {
  chaosObjectFrom,
  chaosObjects,
  durationSeconds,
  faultPlan,
  holdSeconds,
  INSTALL_CHAOS_MESH,
  judgeConnectProbe,
  judgeStressCpu,
  KUBECTL_TIMEOUT_MS,
  kubectlPlan,
  kubectlTimeoutMs,
  LOCK_WATCH_SAMPLE,
  LOCK_WATCH_SETUP,
  lockWatchSummary,
  MIGRATION_STEP_TIMEOUT_MS,
  missingTopics,
  parseConnectProbe,
  parseCpuStat,
  parseLockSamples,
  consoleLine,
  duringProbe,
  parseGroupOffsets,
  renderVariantOverlay,
  ROLLOUT_TIMEOUT_S,
  variantLeftovers,
  variantMismatches,
} from './kind-chaos-plan';

const root = findRepoRoot();

describe('the kubectl plan of the kind driver', () => {
  it('reads every manifest of the catalog as a Chaos Mesh object in namespace faultline with a pod selector', () => {
    for (const { dir, experiment } of loadCatalog(root)) {
      const objects = chaosObjects(dir, experiment);
      expect(objects.map((o) => o.file)).toEqual(experiment.fault.kind.manifests.map((m) => join(dir, m)));
      for (const o of objects) {
        expect(o.namespace).toBe('faultline');
        expect(Object.keys(o.labels)).toEqual(['app.kubernetes.io/name']);
        expect(o.resource).toMatch(/^(podchaos|networkchaos|stresschaos)\.chaos-mesh\.org$/);
      }
      // Every object: applied, read, deleted, read again, and nothing else changes the cluster.
      const plan = faultPlan(objects);
      expect(plan.map((s) => s.phase)).toEqual(
        ['inject', 'prove', 'heal', 'recover'].flatMap((phase) => objects.map(() => phase)),
      );
      expect(plan.filter((s) => ['apply', 'delete'].includes(s.argv[0])).map((s) => s.argv[2])).toEqual(
        [...objects, ...objects].map((o) => o.file),
      );
    }
  });

  it('relay-crash: apply its pod-kill.yaml, read the PodChaos, delete it, read it again', () => {
    const entry = loadCatalog(root).find((e) => e.experiment.id === 'relay-crash');
    if (!entry) throw new Error('relay-crash is not in the catalog');
    const { dir, experiment } = entry;
    const objects = chaosObjects(dir, experiment);
    const file = join(root, 'chaos/experiments/relay-crash/pod-kill.yaml');
    expect(objects).toEqual([
      {
        file,
        kind: 'PodChaos',
        resource: 'podchaos.chaos-mesh.org',
        name: 'relay-crash',
        namespace: 'faultline',
        action: 'pod-kill',
        labels: { 'app.kubernetes.io/name': 'outbox-relay-orders' },
        containerNames: [],
      },
    ]);
    expect(faultPlan(objects).map((s) => `${s.phase}: ${s.argv.join(' ')}`)).toEqual([
      `inject: apply --filename ${file}`,
      'prove: get podchaos.chaos-mesh.org relay-crash --namespace faultline --output json',
      `heal: delete --filename ${file} --ignore-not-found --wait=false`,
      'recover: get podchaos.chaos-mesh.org relay-crash --namespace faultline --output json',
    ]);
    expect(kubectlPlan.pods(objects[0])).toEqual([
      'get',
      'pods',
      '--namespace',
      'faultline',
      '--selector',
      'app.kubernetes.io/name=outbox-relay-orders',
      '--output',
      'json',
    ]);
    expect(kubectlPlan.crds(objects)).toEqual([
      'get',
      'customresourcedefinitions',
      'podchaos.chaos-mesh.org',
      '--output',
      'name',
    ]);
  });

  it('preflight and reads: contexts, CRDs once per kind, Prometheus through the API server, psql in the postgres pod', () => {
    expect(kubectlPlan.contexts()).toEqual(['config', 'get-contexts', '--output', 'name']);
    expect(kubectlPlan.prometheus('/api/v1/x')).toEqual(['get', '--raw', '/api/v1/x']);
    expect(kubectlPlan.psql('orders', 'SELECT 1').slice(0, 6)).toEqual([
      'exec',
      '--namespace',
      'faultline',
      'statefulset/postgres',
      '--container',
      'postgres',
    ]);
    expect(kubectlPlan.psql('orders', 'SELECT 1').slice(-4)).toEqual(['--dbname', 'orders', '--command', 'SELECT 1']);
    expect(INSTALL_CHAOS_MESH).toContain('--version 2.8.3 --values k8s/kind/chaos-mesh-values.yaml');
  });

  it('poison-message: one line for the console producer in the kafka pod, with the event headers', () => {
    expect(kubectlPlan.produce('orders.events').slice(0, 8)).toEqual([
      'exec',
      '--stdin',
      '--namespace',
      'faultline',
      'statefulset/kafka',
      '--container',
      'kafka',
      '--',
    ]);
    // The broker's loopback listener, with a heap of its own (k8s/test/chaos-paths.int-spec.ts follows the address).
    expect(kubectlPlan.produce('orders.events').slice(8, 13)).toEqual([
      'env',
      'KAFKA_HEAP_OPTS=-Xmx128m',
      '/opt/kafka/bin/kafka-console-producer.sh',
      '--bootstrap-server',
      '127.0.0.1:9094',
    ]);
    // Both poisons of poisons.ts, each one line: headers, key and value between tabs.
    for (const m of poisonMessages(new Date('2026-11-28T00:00:00.000Z'))) {
      const [headers, key, value] = consoleLine(m.headers, m.orderId, m.value).trimEnd().split('\t');
      expect(headers).toBe(`event-id:${m.eventId},event-type:${m.type},event-version:1`);
      expect(key).toBe(m.orderId);
      expect(JSON.parse(value)).toEqual(JSON.parse(m.value));
    }
    // The schema poison and the handler poison (a NUL in the customer id, escaped in JSON: still one line).
    expect(poisonMessages(new Date()).map((m) => [m.kind, m.type])).toEqual([
      ['validation', 'OrderPlaced'],
      ['handler', 'OrderConfirmed'],
    ]);
    expect(consoleLine({ 'dlq-replay-of': 'orders.events.dlq:0:5' }, 'k', '{}')).toBe(
      'dlq-replay-of:orders.events.dlq:0:5\tk\t{}\n',
    );
    // What the producer would split wrongly is refused, not sent mangled.
    expect(() => consoleLine({ a: 'x,y' }, 'k', '{}')).toThrow('cannot take on one line');
    expect(() => consoleLine({}, 'k', '{\n}')).toThrow('cannot take on one line');
  });

  it('reads the committed offsets of a group from kafka-consumer-groups.sh --describe', () => {
    const out = [
      '',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID                                HOST            CLIENT-ID',
      'notifications   orders.events   0          120             120             0               notifications-1-2c1e-4f0a-9d3b /10.244.0.12   notifications-1',
      'notifications   orders.events   1          -               4               -               -                                          -               -',
      'notifications   inventory.events 2         7               7               0               notifications-1-2c1e-4f0a-9d3b /10.244.0.12   notifications-1',
    ].join('\n');
    expect(parseGroupOffsets(out, 'orders.events')).toEqual({ 0: '120' });
    expect(parseGroupOffsets(out, 'inventory.events')).toEqual({ 2: '7' });
    expect(kubectlPlan.groupOffsets('notifications')).toEqual([
      'exec',
      '--namespace',
      'faultline',
      'statefulset/kafka',
      '--container',
      'kafka',
      '--',
      'env',
      'KAFKA_HEAP_OPTS=-Xmx128m',
      '/opt/kafka/bin/kafka-consumer-groups.sh',
      '--bootstrap-server',
      '127.0.0.1:9094',
      '--describe',
      '--group',
      'notifications',
    ]);
  });

  it('kafka-reachable: the broker lists the topics in its pod; the topics Job is not asked (it is deleted a day after it ran)', () => {
    expect(kubectlPlan.kafkaTopics()).toEqual([
      'exec',
      '--namespace',
      'faultline',
      'statefulset/kafka',
      '--container',
      'kafka',
      '--',
      'env',
      'KAFKA_HEAP_OPTS=-Xmx128m',
      '/opt/kafka/bin/kafka-topics.sh',
      '--bootstrap-server',
      '127.0.0.1:9094',
      '--list',
    ]);
    expect(
      missingTopics('__consumer_offsets\ninventory.events\ninventory.events.dlq\norders.events\norders.events.dlq\n'),
    ).toEqual([]);
    expect(missingTopics('orders.events\norders.events.dlq-old\n')).toEqual([
      'inventory.events',
      'orders.events.dlq',
      'inventory.events.dlq',
    ]);
  });

  it('holds the experiment’s hold, cut short by a manifest’s own duration', () => {
    const delay = chaosObjectFrom(
      '/x.yaml',
      'apiVersion: chaos-mesh.org/v1alpha1\nkind: NetworkChaos\nmetadata: { name: d }\nspec: { duration: 30s, selector: { labelSelectors: { a: b } } }\n',
    );
    expect(delay.durationS).toBe(30);
    expect(holdSeconds([delay], 45)).toBe(30);
    expect(holdSeconds([delay], 10)).toBe(10);
    expect(holdSeconds([{ ...delay, durationS: undefined }], 10)).toBe(10);
  });

  it('parses Go durations and refuses anything else', () => {
    expect(durationSeconds('1m30s')).toBe(90);
    expect(durationSeconds('1500ms')).toBeCloseTo(1.5);
    expect(() => durationSeconds('30 s')).toThrow('not a duration');
  });

  it('refuses a manifest that is not a Chaos Mesh object the driver knows', () => {
    expect(() =>
      chaosObjectFrom('/x.yaml', 'apiVersion: chaos-mesh.org/v1alpha1\nkind: HTTPChaos\nmetadata: { name: h }\n'),
    ).toThrow('is not a Chaos Mesh');
    expect(() => chaosObjectFrom('/x.yaml', 'apiVersion: v1\nkind: PodChaos\nmetadata: { name: h }\n')).toThrow(
      'is not a Chaos Mesh',
    );
  });
});

describe('a naive variant on kind', () => {
  it('is the kind overlay plus one component, by relative paths (kustomize refuses absolute ones)', () => {
    const text = renderVariantOverlay(
      '/repo/.lab/kind/overlay',
      '/repo/.lab/kind/overlay-variant',
      '/repo/k8s/components/orders-dual-write',
    );
    expect(text).toContain(
      'resources:\n  - "../overlay"\ncomponents:\n  - "../../../k8s/components/orders-dual-write"\n',
    );
  });

  const deployment = (env: Record<string, string>, status = { replicas: 1, updatedReplicas: 1, readyReplicas: 1 }) =>
    JSON.stringify({
      spec: {
        template: {
          spec: {
            containers: [{ name: 'orders', env: Object.entries(env).map(([name, value]) => ({ name, value })) }],
          },
        },
      },
      status,
    });

  it('counts as live only with every variable on the pod template and every pod updated and ready', () => {
    const vars = { ORDERS_PUBLISH: 'dual-write', ORDERS_DUAL_WRITE_DELAY_MS: '1500' };
    expect(variantMismatches(deployment(vars), 'orders', vars)).toEqual([]);
    expect(variantMismatches(deployment({ ORDERS_PUBLISH: 'outbox' }), 'orders', vars)).toEqual([
      'ORDERS_PUBLISH=outbox, wants dual-write',
      'ORDERS_DUAL_WRITE_DELAY_MS=(unset), wants 1500',
    ]);
    expect(
      variantMismatches(deployment(vars, { replicas: 1, updatedReplicas: 0, readyReplicas: 1 }), 'orders', vars),
    ).toEqual(['0 of 1 pods updated, 1 ready']);
    expect(variantLeftovers(deployment({}), 'orders', vars)).toEqual([]);
    expect(variantLeftovers(deployment({ ORDERS_PUBLISH: 'dual-write' }), 'orders', vars)).toEqual([
      'ORDERS_PUBLISH=dual-write',
    ]);
  });

  it('waits for a rollout longer than for any other kubectl call, and for the lock watch as long as a migration', () => {
    expect(kubectlTimeoutMs(kubectlPlan.rollout('orders'))).toBeGreaterThan(ROLLOUT_TIMEOUT_S * 1000);
    expect(kubectlTimeoutMs(kubectlPlan.deployment('orders'))).toBe(KUBECTL_TIMEOUT_MS);
    expect(kubectlTimeoutMs(kubectlPlan.lockWatch())).toBeGreaterThan(MIGRATION_STEP_TIMEOUT_MS);
  });
});

describe('the lock watch on kind', () => {
  // psql 15's output for LOCK_WATCH_SETUP + three samples while a session named `orders` waited on a table lock.
  const OUT = [
    '{"t" : 1796278778492, "waits" : [{"pid":12291,"app":"orders","query":"SELECT count(*) FROM t","started":"2026-12-03 06:19:38.167146+00","ms":325.538,"mode":"AccessShareLock on t"}], "lags" : []}',
    '',
    '{"t" : 1796278778598, "waits" : [{"pid":12291,"app":"orders","query":"SELECT count(*) FROM t","started":"2026-12-03 06:19:38.167146+00","ms":430.428,"mode":"AccessShareLock on t"}], "lags" : [2048]}',
    '',
    '{"t" : 1796278778700, "waits" : [], "lags" : [null]}',
  ].join('\n');

  it('is one session-local function and one statement per sample (no snapshot held across samples)', () => {
    expect(LOCK_WATCH_SETUP).toMatch(
      /^CREATE FUNCTION pg_temp\.lab_lock_sample\(\) RETURNS text LANGUAGE sql AS \$lab\$\nSELECT jsonb_build_object/,
    );
    expect(LOCK_WATCH_SAMPLE).toBe('SELECT pg_temp.lab_lock_sample();\n');
  });

  it('reads a sample psql printed over several lines, every waiter in it (json_agg output with two waits)', () => {
    // psql 15 on a json_agg of two rows: a newline between the elements.
    const twoWaits = [
      '{"t" : 1796293914592, "waits" : [{"pid":3510,"app":"orders","query":"INSERT INTO orders","started":"2026-12-03 10:31:54.529062+00","ms":63.0,"mode":"RowExclusiveLock on orders"}, ',
      ' {"pid":3444,"app":"orders","query":"INSERT INTO orders","started":"2026-12-03 10:31:54.425198+00","ms":167.1,"mode":"RowExclusiveLock on orders"}], "lags" : [4668728]}',
      '{"t" : 1796293914692, "waits" : [], "lags" : []}',
    ].join('\n');
    expect(parseLockSamples(twoWaits).map((s) => s.waits.map((w) => w.pid))).toEqual([[3510, 3444], []]);
  });

  it('summarises the samples as the local watch does: one episode per backend and statement, at its longest', () => {
    const samples = parseLockSamples(OUT);
    expect(samples).toHaveLength(3);
    const summary = lockWatchSummary(
      samples,
      [
        { step: 'expand', startedAt: 1796278778000 },
        { step: 'backfill', startedAt: 1796278778550 },
      ],
      100,
      400,
    );
    expect(summary).toMatchObject({
      samples: 3,
      intervalMs: 100,
      longestLockWaitMs: 430,
      longestApplicationWaitMs: 430,
      lockWaitsOverBudget: 1,
      maxSlotLagBytes: 2048,
    });
    // Attributed to the step running when the wait was first seen.
    expect(summary.worstWaits).toEqual([
      {
        pid: 12291,
        app: 'orders',
        query: 'SELECT count(*) FROM t',
        mode: 'AccessShareLock on t',
        ms: 430,
        step: 'expand',
      },
    ]);
  });
});

describe('the connect probe of a NetworkChaos', () => {
  const delay = { networkAction: 'delay', latencyMs: 1500 };
  const ok = (...ms: number[]) => ({ ms, failed: 0 });

  it('reads the action and latency from the manifest', () => {
    const o = chaosObjectFrom(
      '/x.yaml',
      'apiVersion: chaos-mesh.org/v1alpha1\nkind: NetworkChaos\nmetadata: { name: d }\nspec: { action: delay, delay: { latency: 1500ms }, selector: { labelSelectors: { app.kubernetes.io/name: orders } } }\n',
    );
    expect(o).toMatchObject({ networkAction: 'delay', latencyMs: 1500 });
  });

  it('holds a delay proven when the median connect grew by at least half the latency, not otherwise', () => {
    expect(judgeConnectProbe(delay, 'gateway → orders:grpc', ok(0.8, 1.1, 0.9), ok(1501, 1503, 1502))).toMatchObject({
      onPath: true,
      detail: expect.stringContaining('the services’ path is delayed'),
    });
    // Chaos Mesh said AllInjected, but the services' path is as fast as before (a rule on the wrong side).
    expect(judgeConnectProbe(delay, 'gateway → orders:grpc', ok(0.8, 1.1, 0.9), ok(0.9, 1.0, 1.2))).toMatchObject({
      onPath: false,
      detail: expect.stringContaining('NOT delayed'),
    });
  });

  it('holds a partition proven when every connect fails that succeeded before', () => {
    const cut = { networkAction: 'partition' };
    expect(judgeConnectProbe(cut, 'gateway → redis:redis', ok(0.5, 0.6, 0.4), { ms: [], failed: 3 }).onPath).toBe(true);
    expect(judgeConnectProbe(cut, 'gateway → redis:redis', ok(0.5, 0.6, 0.4), { ms: [0.5], failed: 2 }).onPath).toBe(
      false,
    );
    // An edge already unreachable before the fault proves nothing.
    expect(judgeConnectProbe(cut, 'gateway → redis:redis', { ms: [], failed: 3 }, { ms: [], failed: 3 })).toMatchObject(
      { onPath: false, detail: expect.stringContaining('already unreachable before the fault') },
    );
  });

  it('fits the probe during the fault inside what is left of its window: a 3 s partition is judged on one short try', () => {
    // transient-failure: 3 s held, about 2 s left once Chaos Mesh reported it injected.
    expect(duringProbe({ networkAction: 'partition' }, 2000)).toEqual({ tries: 1, timeoutMs: 1000 });
    // A delay of 20 s: three tries of the usual 3 s.
    expect(duringProbe({ networkAction: 'delay' }, 20_000)).toEqual({ tries: 3, timeoutMs: 3000 });
    // Too little left to judge anything.
    expect(duringProbe({ networkAction: 'partition' }, 500)).toBeUndefined();
    expect(kubectlPlan.connectProbe({ from: 'gateway', host: 'orders', port: 7051 }, 1, 1000).slice(-4)).toEqual([
      'orders',
      '7051',
      '1',
      '1000',
    ]);
  });

  it('parses the probe’s last line, and refuses anything else', () => {
    expect(parseConnectProbe('{"ms":[1.5,2],"failed":1}\n')).toEqual({ ms: [1.5, 2], failed: 1 });
    expect(() => parseConnectProbe('{"nope":1}')).toThrow("not a connect probe's answer");
  });
});

describe('StressChaos proven on the container’s CPU', () => {
  const lastItem = chaosObjectFrom(
    '/stress.yaml',
    'apiVersion: chaos-mesh.org/v1alpha1\nkind: StressChaos\nmetadata: { name: s }\nspec: { selector: { labelSelectors: { app.kubernetes.io/name: inventory } }, stressors: { cpu: { workers: 2, load: 90 } } }\n',
  );
  const migration = chaosObjectFrom(
    '/stress-pg.yaml',
    'apiVersion: chaos-mesh.org/v1alpha1\nkind: StressChaos\nmetadata: { name: p }\nspec: { selector: { labelSelectors: { app.kubernetes.io/name: postgres } }, stressors: { cpu: { workers: 1, load: 50 }, memory: { workers: 1, size: 128MB } } }\n',
  );
  const rate = (cores: number) => ({ cores, overMs: 1000 });

  it('reads what the cpu stressors ask from the manifest: workers × load', () => {
    expect(lastItem.stressCpuCores).toBeCloseTo(1.8);
    expect(migration.stressCpuCores).toBeCloseTo(0.5);
  });

  it('holds the stress proven when the container’s CPU grew by half the ask, capped by its limit', () => {
    // inventory on kind: 2 workers × 90 % = 1.8 cores asked, 500m limit: +0.25 cores is the bar.
    expect(judgeStressCpu(lastItem, 'inventory-1/inventory', 0.5, rate(0.02), rate(0.49))).toMatchObject({
      proven: true,
      detail: expect.stringContaining('the stress runs in the container'),
    });
    expect(judgeStressCpu(lastItem, 'inventory-1/inventory', 0.5, rate(0.02), rate(0.2))).toMatchObject({
      proven: false,
      detail: expect.stringContaining('NOT the stress (at least +0.25 expected)'),
    });
    // No limit: half of what is asked.
    expect(judgeStressCpu(lastItem, 'inventory-1/inventory', undefined, rate(0.02), rate(0.5)).proven).toBe(false);
    expect(judgeStressCpu(migration, 'postgres-0/postgres', 1, rate(0.1), rate(0.4)).proven).toBe(true);
    // A memory-only stress is not judged by CPU.
    expect(judgeStressCpu({}, 'postgres-0/postgres', 1, rate(0.1), rate(0.1)).proven).toBe(true);
  });

  it('parses cgroup v2 cpu.stat, and refuses anything else', () => {
    expect(parseCpuStat('usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n')).toBe(123456);
    expect(() => parseCpuStat('cpu  1 2 3')).toThrow('not a cgroup v2 cpu.stat');
  });
});
