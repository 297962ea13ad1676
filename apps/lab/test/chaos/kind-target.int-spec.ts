// `lab chaos run <id> --target kind` through the real CLI, against a SCRIPTED kubectl (LAB_KUBECTL): no Docker and no
// cluster exist on these machines. The script records its argv and answers like kind + Chaos Mesh 2.8.3 would for
// the calls the driver makes (contexts, CRDs, workloads, apply/get/delete of the Chaos Mesh object, pods, Prometheus
// through the API server proxy, Jaeger the same way, Kafka's CLI tools and psql in their pods, a naive variant's
// overlay and rollout). What this proves: the preflight refuses a missing
// context or missing CRDs with the command to run (exit 2); exactly the experiment's manifests are applied, in order,
// and deleted at heal; the fault counts only once Chaos Mesh's status says it was injected and the pod was replaced;
// an object that never reports injection ends INCONCLUSIVE (exit 3), never PASS. What it cannot prove: that a real
// cluster answers the same way.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeys } from '@faultline/auth';
import { labCli, repoRoot } from '@faultline/testing';
import type { RunJournal } from '../../src/chaos/journal';

const MANIFEST = join(repoRoot, 'chaos', 'experiments', 'relay-crash', 'pod-kill.yaml');

/**
 * The scripted kubectl: a Node script; its behaviour comes from scenario.json beside it, its memory from state.json.
 */
const FAKE_KUBECTL = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const dir = __dirname;
const scenario = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
const stateFile = path.join(dir, 'state.json');
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { applied: [], deleted: [] };
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state));
let args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify(args) + '\n');
const out = (o) => { process.stdout.write(typeof o === 'string' ? o : JSON.stringify(o)); process.exit(0); };
const fail = (msg) => { process.stderr.write(msg + '\n'); process.exit(1); };
if (args[0] === '--context') {
  // Like kubectl: \`config\` subcommands read the kubeconfig whatever --context says; everything else needs the
  // context.
  if (args[2] !== 'config' && !scenario.contexts.includes(args[1])) fail('error: context "' + args[1] + '" does not exist');
  args = args.slice(2);
}
const has = (...xs) => xs.every((x) => args.includes(x));
const t = new Date().toISOString();
// A psql session (PsqlSession; the lock watch): statements on stdin, each answered as psql would on empty tables.
if (has('exec', '--stdin', 'statefulset/postgres', 'psql')) {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith("SELECT coalesce(json_agg") || line.startsWith('WITH q AS (')) process.stdout.write('[]\n');
      const marker = /^\\echo (__LAB_END_\d+__)/.exec(line);
      if (marker) process.stdout.write(marker[1] + " false ''\n");
    }
  });
  process.stdin.on('end', () => process.exit(0));
} else {
if (has('config', 'get-contexts')) out(scenario.contexts.join('\n') + '\n');
if (has('get', 'customresourcedefinitions')) {
  if (!scenario.crds) fail('Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "podchaos.chaos-mesh.org" not found');
  out(args.filter((a) => a.endsWith('.chaos-mesh.org')).map((n) => 'customresourcedefinition.apiextensions.k8s.io/' + n).join('\n') + '\n');
}
const ready = (kind, name, image) => ({ kind, metadata: { name }, spec: { replicas: 1, template: { spec: { containers: [{ image }] } } }, status: { replicas: 1, readyReplicas: 1 } });
if (has('get', 'deployments,statefulsets,jobs,pods')) {
  out({ kind: 'List', items: [
    ready('StatefulSet', 'postgres', 'postgres:17.6-bookworm'), ready('StatefulSet', 'kafka', 'apache/kafka:3.9.1'),
    // The topics Job is deleted a day after it completed (ttlSecondsAfterFinished).
    ...(scenario.topicsJob === false ? [] : [{ kind: 'Job', metadata: { name: 'kafka-topics' }, status: { succeeded: 1 } }]),
    ...['gateway', 'orders', 'inventory', 'notifications', 'recommendations', 'outbox-relay-orders', 'outbox-relay-inventory'].map((n) => ready('Deployment', n, 'faultline/x:abc1234')),
  ] });
}
const live = () => state.applied.length > state.deleted.length;
// The relay's pod: generation n after n applies of the pod-kill (each one kills the pod there was, Kubernetes
// replaces it); when the scenario never injects, nothing is ever killed.
const generation = () => (scenario.inject ? state.applied.length : 0);
const relayPod = (n) => 'outbox-relay-orders-6f9c7d5b8-gen' + n;
if (has('get', 'pods')) {
  const n = generation();
  out({ kind: 'List', items: [{ metadata: { name: relayPod(n), uid: 'uid-' + n }, status: { conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'outbox-relay-orders', restartCount: 0 }] } }] });
}
if (args[0] === 'apply' && args.includes('--kustomize')) {
  // The kind overlay, or a naive variant's overlay over it: what the Deployments' pod templates then hold.
  state.overlays = [...(state.overlays ?? []), args[args.indexOf('--kustomize') + 1]]; save();
  out('deployment.apps/orders serverside-applied\n');
}
if (has('rollout', 'status')) out('deployment "' + args[2].split('/')[1] + '" successfully rolled out\n');
if (has('get', 'deployment')) {
  const name = args[2];
  const variantLive = (state.overlays ?? []).length > 0 && (state.overlays.at(-1).endsWith('overlay-variant') || scenario.restoreSticks);
  const env = variantLive ? Object.entries(scenario.variantEnv?.[name] ?? {}).map(([k, v]) => ({ name: k, value: v })) : [];
  out({ kind: 'Deployment', metadata: { name }, spec: { template: { spec: { containers: [{ name, env }] } } }, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1 } });
}
if (args[0] === 'apply') {
  const file = args[args.indexOf('--filename') + 1];
  state.applied.push(file); save();
  out('podchaos.chaos-mesh.org/relay-crash created\n');
}
if (args[0] === 'delete') {
  const file = args[args.indexOf('--filename') + 1];
  state.deleted.push(file); save();
  out('podchaos.chaos-mesh.org "relay-crash" deleted\n');
}
if (args[0] === 'get' && String(args[1]).endsWith('.chaos-mesh.org')) {
  // Any Chaos Mesh kind (PodChaos, NetworkChaos, StressChaos): the status fields the driver reads are common to all.
  if (!live()) fail('Error from server (NotFound): ' + args[1] + ' "' + args[2] + '" not found');
  const c = (type, s) => ({ type, status: s ? 'True' : 'False' });
  out({ apiVersion: 'chaos-mesh.org/v1alpha1', kind: args[1].split('.')[0], metadata: { name: args[2], namespace: 'faultline' },
    status: scenario.inject
      ? { conditions: [c('Selected', true), c('AllInjected', true), c('AllRecovered', false), c('Paused', false)],
          experiment: { desiredPhase: 'Run', containerRecords: [{ id: 'faultline/' + relayPod(generation() - 1), selectorKey: '.', phase: 'Injected', injectedCount: 1, recoveredCount: 0, events: [{ type: 'Succeeded', operation: 'Apply', timestamp: t }] }] } }
      : { experiment: { desiredPhase: 'Run' } } });
}
if (has('get', '--raw') && args[args.indexOf('--raw') + 1].includes('/services/jaeger:')) {
  // Jaeger: the gateway reported spans; none of them belongs to this run (no order reached the scripted cluster).
  out(args[args.indexOf('--raw') + 1].includes('/api/services') ? { data: ['gateway', 'jaeger'] } : { data: [] });
}
if (has('get', '--raw')) {
  // Prometheus: a drained pipeline (no PENDING order, no outbox backlog, no consumer lag).
  out({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0'] }] } });
}
if (has('exec', '--stdin', 'statefulset/kafka') && args.some((a) => a.endsWith('/kafka-console-producer.sh'))) {
  // The console producer: every line it reads is a message, acknowledged.
  let lines = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => (lines += c));
  process.stdin.on('end', () => { fs.appendFileSync(path.join(dir, 'produced.txt'), lines); process.exit(0); });
} else {
if (has('exec', 'statefulset/kafka', '/opt/kafka/bin/kafka-topics.sh', '--list')) {
  out(['__consumer_offsets', ...(scenario.topics ?? ['orders.events', 'inventory.events', 'orders.events.dlq', 'inventory.events.dlq'])].join('\n') + '\n');
}
if (has('exec', 'deployment/grafana', 'wget')) out('{"id":1,"message":"Annotation added"}');
if (has('exec', 'node', '-e')) {
  // The connect probe from an app pod: 1 ms connects, or what the scenario says the path shows while a fault is live.
  out(JSON.stringify({ ms: live() && scenario.probeDuringMs ? scenario.probeDuringMs : [1.1, 0.9, 1.0], failed: 0 }) + '\n');
}
if (args.some((a) => a.endsWith('/kafka-get-offsets.sh'))) {
  // Empty partitions (start = end): nothing was written, so the console consumer is never needed.
  const topics = args[args.indexOf('--topic') + 1].replace(/^\^\(|\)\$$/g, '').split('|').map((t) => t.replace(/\\/g, ''));
  out(topics.flatMap((t) => [0, 1, 2].map((p) => t + ':' + p + ':' + (scenario.offsets ?? 0))).join('\n') + '\n');
}
if (has('exec', 'statefulset/postgres')) {
  const sql = args[args.indexOf('--command') + 1];
  out('[]\n');
}
fail('fake kubectl: unexpected call ' + JSON.stringify(args));
}
}
`;

interface Scenario {
  contexts: string[];
  crds: boolean;
  inject: boolean;
  /** false: the topics Job is gone, as a day after `lab up`. */
  topicsJob?: boolean;
  /** The topics the broker lists (default: all four of the lab's). */
  topics?: string[];
  /** The env a naive variant's component puts on each Deployment's pod template (what `get deployment` shows). */
  variantEnv?: Record<string, Record<string, string>>;
  /** The variant stays on the pod template after the restore (a restore that did not take). */
  restoreSticks?: boolean;
  /** What the connect probe measures while a fault is applied (default: as fast as before). */
  probeDuringMs?: number[];
}

describe('lab chaos run --target kind (scripted kubectl)', () => {
  let dir: string;
  let stateDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kind-chaos-'));
    stateDir = join(dir, 'state');
    // The key `lab up --target kind` would have generated: the load signs its customers' tokens with it.
    mkdirSync(join(stateDir, 'kind', 'secrets'), { recursive: true });
    writeFileSync(join(stateDir, 'kind', 'secrets', 'jwt-private.pem'), generateSigningKeys().privateKeyPem, {
      mode: 0o600,
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(scenario: Scenario, extraEnv: Record<string, string> = {}, id = 'relay-crash') {
    const kubectl = join(dir, 'kubectl');
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    writeFileSync(kubectl, `#!${process.execPath}\n${FAKE_KUBECTL}`);
    chmodSync(kubectl, 0o755);
    const result = await labCli({
      LAB_STATE_DIR: stateDir,
      LAB_KUBECTL: kubectl,
      // Nothing listens there: the load's requests fail fast, which the verdict checks see as they are.
      LAB_KIND_GATEWAY_URL: 'http://127.0.0.1:9',
      LAB_KIND_INJECT_TIMEOUT_S: '5',
      ...extraEnv,
    }).exec('chaos', 'run', id, '--target', 'kind', '--quick', '--json');
    // No file: kubectl was never called (a run refused before touching the cluster).
    const callsFile = join(dir, 'calls.jsonl');
    const calls = existsSync(callsFile)
      ? readFileSync(callsFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as string[])
      : [];
    let journal: RunJournal | undefined;
    try {
      journal = JSON.parse(result.stdout) as RunJournal;
    } catch {
      journal = undefined;
    }
    return { ...result, calls, journal };
  }

  const mutations = (calls: string[][]) =>
    calls
      .filter((c) => c[2] === 'apply' || c[2] === 'delete')
      .map(
        (c) =>
          `${c[2]} ${c.includes('--kustomize') ? c[c.indexOf('--kustomize') + 1] : c[c.indexOf('--filename') + 1]}`,
      );

  it('refuses to run without the kind-faultline context: exit 2, the command to create it, nothing applied', async () => {
    const r = await run({ contexts: ['kind-other', 'minikube'], crds: true, inject: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no kubectl context "kind-faultline": create the cluster with `lab up --target kind`');
    expect(r.journal).toMatchObject({ target: 'kind', verdict: 'ABORTED', fault: { fired: false } });
    expect(mutations(r.calls)).toEqual([]);
    // Every call names the kind context explicitly: the driver never acts on whatever context is current.
    expect(r.calls.every((c) => c[0] === '--context' && c[1] === 'kind-faultline')).toBe(true);
  });

  it('refuses to run without the Chaos Mesh CRDs: exit 2, naming how to install Chaos Mesh', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: false, inject: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the Chaos Mesh CRDs (podchaos.chaos-mesh.org) are not installed in kind-faultline');
    expect(r.stderr).toContain('helm upgrade --install chaos-mesh chaos-mesh/chaos-mesh');
    expect(mutations(r.calls)).toEqual([]);
  });

  it('refuses a naive variant before `lab up --target kind` generated the overlay: exit 2, nothing applied', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true }, {}, 'dual-write-crash');
    expect(r.code).toBe(2);
    expect(r.journal).toMatchObject({
      target: 'kind',
      verdict: 'ABORTED',
      reason: expect.stringContaining('no generated overlay at'),
    });
    expect(mutations(r.calls).filter((m) => m.startsWith('apply') && !m.endsWith('/overlay'))).toEqual([]);
  });

  const VARIANT_ENV = { orders: { ORDERS_PUBLISH: 'dual-write', ORDERS_DUAL_WRITE_DELAY_MS: '1500' } };
  const writeOverlay = () => {
    mkdirSync(join(stateDir, 'kind', 'overlay'), { recursive: true });
    writeFileSync(join(stateDir, 'kind', 'overlay', 'kustomization.yaml'), 'resources: [../../../k8s/overlays/kind]\n');
  };

  it('runs a naive variant: applies its component over the overlay, proves the rollout, injects, then restores the overlay', async () => {
    writeOverlay();
    const r = await run(
      { contexts: ['kind-faultline'], crds: true, inject: true, variantEnv: VARIANT_ENV },
      {},
      'dual-write-crash',
    );
    const journal = r.journal as RunJournal;
    const overlay = join(stateDir, 'kind', 'overlay');
    const variant = join(stateDir, 'kind', 'overlay-variant');
    const podKill = join(repoRoot, 'chaos', 'experiments', 'dual-write-crash', 'pod-kill.yaml');
    // The variant first, the fault while it is live, the plain overlay last.
    const m = mutations(r.calls);
    expect(m[0]).toBe(`apply ${variant}`);
    expect(m.at(-1)).toBe(`apply ${overlay}`);
    expect(m.slice(1, -1).every((x) => x.endsWith(podKill))).toBe(true);
    expect(m.slice(1, -1).length).toBeGreaterThan(0);
    // The generated overlay is the kind overlay plus the component the experiment names.
    const generated = readFileSync(join(variant, 'kustomization.yaml'), 'utf8');
    expect(generated).toContain('"../overlay"');
    expect(generated).toMatch(/components:\n {2}- ".*k8s\/components\/orders-dual-write"/);
    // Each apply is followed by the rollout and a read of the pod template.
    const order = r.calls.map((c) => c.slice(2, 5).join(' '));
    const applies = order.flatMap((c, i) => (c.startsWith('apply --server-side') ? [i] : []));
    for (const at of applies)
      expect(order.slice(at + 1, at + 3)).toEqual(['rollout status deployment/orders', 'get deployment orders']);
    const evidence = journal.fault.evidence.join('\n');
    expect(evidence).toContain(
      'variant live: deployment/orders rolled out with ORDERS_PUBLISH=dual-write, ORDERS_DUAL_WRITE_DELAY_MS=1500 (k8s/components/orders-dual-write)',
    );
    expect(evidence).toContain('overlay after the run: restored (deployment/orders rolled back to k8s/overlays/kind)');
    expect(journal.fault.fired).toBe(true);
    expect(journal.verdict).not.toBe('ABORTED');
  });

  it('a variant that is not on the pod template after its rollout is refused, and the overlay is still restored', async () => {
    writeOverlay();
    const r = await run(
      {
        contexts: ['kind-faultline'],
        crds: true,
        inject: true,
        variantEnv: { orders: { ORDERS_PUBLISH: 'dual-write' } },
      },
      {},
      'dual-write-crash',
    );
    expect(r.code).toBe(2);
    expect(r.journal?.reason).toContain(
      'the naive variant did not take effect on kind: deployment/orders after its rollout: ORDERS_DUAL_WRITE_DELAY_MS=(unset), wants 1500',
    );
    expect(mutations(r.calls)).toEqual([
      `apply ${join(stateDir, 'kind', 'overlay-variant')}`,
      `apply ${join(stateDir, 'kind', 'overlay')}`,
    ]);
  });

  it('says so when the restore did not take: the variant still on the pod template after the plain overlay', async () => {
    writeOverlay();
    const r = await run(
      { contexts: ['kind-faultline'], crds: true, inject: true, variantEnv: VARIANT_ENV, restoreSticks: true },
      {},
      'dual-write-crash',
    );
    expect(r.journal?.reason).toContain(
      'the kind overlay was NOT restored: deployment/orders still has ORDERS_PUBLISH=dual-write',
    );
  });

  it('Ctrl-C mid-run deletes the applied fault and restores the overlay before exiting 130', async () => {
    writeOverlay();
    const kubectl = join(dir, 'kubectl');
    writeFileSync(
      join(dir, 'scenario.json'),
      JSON.stringify({ contexts: ['kind-faultline'], crds: true, inject: true, variantEnv: VARIANT_ENV }),
    );
    writeFileSync(kubectl, `#!${process.execPath}\n${FAKE_KUBECTL}`);
    chmodSync(kubectl, 0o755);
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'apps/lab/bin/lab.js'), 'chaos', 'run', 'dual-write-crash', '--target', 'kind', '--quick'],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          LAB_STATE_DIR: stateDir,
          LAB_KUBECTL: kubectl,
          LAB_KIND_GATEWAY_URL: 'http://127.0.0.1:9',
          LAB_KIND_INJECT_TIMEOUT_S: '5',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const podKill = join(repoRoot, 'chaos', 'experiments', 'dual-write-crash', 'pod-kill.yaml');
    const calls = () =>
      existsSync(join(dir, 'calls.jsonl'))
        ? readFileSync(join(dir, 'calls.jsonl'), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as string[])
        : [];
    // Interrupt once the fault is applied over the live variant.
    for (const deadline = Date.now() + 60_000; !mutations(calls()).includes(`apply ${podKill}`);) {
      if (Date.now() > deadline) throw new Error(`the fault was never applied: ${JSON.stringify(mutations(calls()))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const m = mutations(calls());
    // The plain overlay is the last thing applied, and the fault is deleted after its last apply (the round's own
    // delete may still land after the cleanup's: deleting twice is harmless, applying after it would not be).
    const applies = m.filter((x) => x.startsWith('apply'));
    expect(applies.at(-1)).toBe(`apply ${join(stateDir, 'kind', 'overlay')}`);
    expect(m.slice(m.lastIndexOf(`apply ${podKill}`))).toContain(`delete ${podKill}`);
    expect(output).toContain('SIGINT: deleting the Chaos Mesh objects and restoring the overlay before exiting');
  });

  it('runs dlq-replay with no Chaos Mesh object: both poisons through the console producer in the kafka pod, nothing applied', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true }, {}, 'dlq-replay');
    const journal = r.journal as RunJournal;
    expect(mutations(r.calls)).toEqual([]);
    const produced = readFileSync(join(dir, 'produced.txt'), 'utf8').trim().split('\n');
    expect(
      produced.map((line) =>
        line
          .split('\t')[0]
          .split(',')
          .find((h) => h.startsWith('event-type:')),
      ),
    ).toEqual(['event-type:OrderPlaced', 'event-type:OrderConfirmed']);
    expect(
      journal.fault.evidence.filter((e) =>
        /poison Order\w+ \(event [0-9a-f-]+\) acknowledged on orders\.events/.test(e),
      ),
    ).toHaveLength(2);
    expect(journal.fault.fired).toBe(true);
    // The scripted broker has an empty DLQ: nothing to replay, so that check has nothing to judge.
    expect(journal.checks.find((c) => c.check === 'replay-effect-once')).toMatchObject({ inconclusive: true });
  });

  it('transient-failure resets notifications’ sessions with psql, nothing applied; when Postgres cuts none, the fault did not fire: INCONCLUSIVE', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true }, {}, 'transient-failure');
    const journal = r.journal as RunJournal;
    expect(mutations(r.calls)).toEqual([]);
    // The scripted psql answers no row: no session was cut, so nothing this run measured can be about the fault.
    expect(
      r.calls.some((c) => c.join(' ').includes('pg_terminate_backend(pid)') && c.join(' ').includes("'notifications'")),
    ).toBe(true);
    expect(journal.fault.evidence.join('\n')).toMatch(
      /pg_terminate_backend cut 0 database sessions of notifications over 3 s, every 5 ms/,
    );
    expect({ fired: journal.fault.fired, verdict: journal.verdict, code: r.code }).toEqual({
      fired: false,
      verdict: 'INCONCLUSIVE',
      code: 3,
    });
  });

  it('runs overload with no Chaos Mesh object: the runner sends the burst to the NodePort itself, nothing is applied', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true }, {}, 'overload');
    const journal = r.journal as RunJournal;
    expect(mutations(r.calls)).toEqual([]);
    expect(journal.fault.evidence.join('\n')).toMatch(
      /the burst offered \d+ of \d+ orders planned at \d+\/s over .* to http:\/\/127\.0\.0\.1:9/,
    );
    expect(journal.fault.fired).toBe(true);
    expect(journal.verdict).not.toBe('ABORTED');
    // The burst's requests are judged with the load's (fast-refusals reads them all).
    expect(journal.load.sent).toBeGreaterThan(0);
  });

  it('applies exactly the experiment’s manifests, proves each kill from the PodChaos status and the replaced pod, deletes at heal', async () => {
    // A day after `lab up`: the topics Job is gone, the topics are not.
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true, topicsJob: false });
    expect(r.journal).toBeDefined();
    const journal = r.journal as RunJournal;
    expect(journal.steadyState.find((p) => p.probe === 'kafka-reachable')).toEqual({
      probe: 'kafka-reachable',
      ok: true,
      detail: 'kafka StatefulSet ready, every lab topic listed by the broker',
    });
    // relay-crash kills the relay `times` times (2): a pod-kill is one-shot, so apply → prove → delete, twice.
    const times = journal.experiment.fault.local.driver === 'kill-process' ? journal.experiment.fault.local.times : 1;
    expect(times).toBe(2);
    expect(mutations(r.calls)).toEqual(
      Array.from({ length: times }, () => [`apply ${MANIFEST}`, `delete ${MANIFEST}`]).flat(),
    );
    // The object was read after the apply (the proof) and after the delete (the recovery), the pods before and after.
    const order = r.calls.map((c) => c.slice(2, 4).join(' '));
    const applyAt = order.indexOf('apply --filename');
    const deleteAt = order.indexOf('delete --filename');
    expect(order.indexOf('get pods')).toBeLessThan(applyAt);
    expect(order.slice(applyAt, deleteAt)).toContain('get podchaos.chaos-mesh.org');
    expect(order.slice(deleteAt)).toContain('get podchaos.chaos-mesh.org');
    expect(journal.fault.fired).toBe(true);
    const evidence = journal.fault.evidence.join('\n');
    expect(evidence).toContain(
      'PodChaos relay-crash (kill 1 of 2): AllInjected=True, injected into faultline/outbox-relay-orders-6f9c7d5b8-gen0',
    );
    expect(evidence).toContain('1 new ready pod(s): outbox-relay-orders-6f9c7d5b8-gen1');
    expect(evidence).toContain(
      'PodChaos relay-crash (kill 2 of 2): AllInjected=True, injected into faultline/outbox-relay-orders-6f9c7d5b8-gen1',
    );
    expect(evidence).toContain('1 new ready pod(s): outbox-relay-orders-6f9c7d5b8-gen2');
    expect(evidence).toContain('PodChaos relay-crash (kill 2 of 2) recovered: deleted');
    expect(journal.fault.window.healedAt).toBeGreaterThan(journal.fault.window.injectedAt ?? Infinity);
    // Convergence from Prometheus through the API server proxy; the verdict checks' SQL through psql in the pod.
    expect(journal.convergence.converged).toBe(true);
    expect(
      r.calls.some(
        (c) =>
          c.includes('--raw') &&
          c[c.indexOf('--raw') + 1].startsWith(
            '/api/v1/namespaces/faultline/services/prometheus:9090/proxy/api/v1/query?query=',
          ),
      ),
    ).toBe(true);
    expect(r.calls.some((c) => c.includes('statefulset/postgres') && c.includes('psql'))).toBe(true);
    // The scripted cluster holds no order of this run: the data checks have nothing to judge, and say so.
    const check = (name: string) => journal.checks.find((c) => c.check === name);
    expect(check('all-orders-final')).toMatchObject({
      ok: false,
      inconclusive: true,
      detail: expect.stringContaining('0 orders in the orders db'),
    });
    expect(check('stock-conservation')).toMatchObject({ ok: false, inconclusive: true });
    // The topics' ends read in the kafka pod before the load, and again for the checks; the spans from Jaeger
    // through the API server's proxy. The scripted cluster has none of this run's: inconclusive, never green.
    const offsets = r.calls.filter(
      (c) => c.some((a) => a.endsWith('/kafka-get-offsets.sh')) && c.includes('statefulset/kafka'),
    );
    expect(offsets.length).toBeGreaterThanOrEqual(3);
    expect(r.calls.findIndex((c) => c.some((a) => a.endsWith('/kafka-get-offsets.sh')))).toBeLessThan(
      r.calls.findIndex((c) => c[2] === 'apply'),
    );
    for (const c of journal.checks.filter((x) => x.check.startsWith('trace-') || x.check === 'redeliveries-absorbed')) {
      expect(c).toMatchObject({ ok: false, inconclusive: true });
      expect(c.detail).not.toMatch(/no trace store|no start offsets/);
    }
    const inconclusive = journal.checks.some((c) => c.inconclusive);
    expect(journal).toMatchObject({ target: 'kind', verdict: inconclusive ? 'INCONCLUSIVE' : 'FAIL' });
    expect(journal.reason).not.toContain('not proven');
    // The run is on Grafana's dashboards: start, the fault as a region, the verdict, posted inside the Grafana pod.
    const posted = r.calls
      .filter((c) => c.includes('deployment/grafana') && c.includes('wget'))
      .map((c) => JSON.parse(c[c.indexOf('--post-data') + 1]) as { time: number; timeEnd?: number; tags: string[] });
    expect(posted.map((a) => a.tags.at(-1))).toEqual(['start', 'fault', 'verdict']);
    expect(posted[1].timeEnd).toBeGreaterThan(posted[1].time);
    expect(posted.every((a) => a.tags.includes('faultline-chaos') && a.tags.includes(`run-${journal.runId}`))).toBe(
      true,
    );
    // The report links each panel the experiment names, at the run's window, and Jaeger searches.
    expect(journal.links?.filter((l) => l.url.startsWith('http://localhost:3000/d/faultline-')).length).toBe(
      journal.experiment.observe.grafana.length,
    );
    expect(journal.links?.some((l) => l.url.startsWith('http://localhost:16686/search?service='))).toBe(true);
    expect(r.code).toBe(inconclusive ? 3 : 1);
  });

  it('incident-repair runs the operator’s step on kind: reconcile and repair through psql in the pod, judged by repair-exact', async () => {
    writeOverlay();
    const r = await run(
      { contexts: ['kind-faultline'], crds: true, inject: true, variantEnv: VARIANT_ENV },
      {},
      'incident-repair',
    );
    const journal = r.journal as RunJournal;
    expect(journal.events.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        "now the operator's step: lab reconcile, then lab reconcile --repair",
        "reconcile names 0 of the run's orders; 0 were lost",
      ]),
    );
    // The repair's orders database is one psql session in the postgres pod.
    expect(
      r.calls.some(
        (c) =>
          c.includes('--stdin') && c.includes('statefulset/postgres') && c.includes('psql') && c.at(-1) === 'orders',
      ),
    ).toBe(true);
    const repair = journal.checks.find((c) => c.check === 'repair-exact');
    expect(repair?.detail).not.toContain('no reconciliation and repair ran');
  });

  it('proves a NetworkChaos delay on the services’ own path: connects from the gateway pod to orders, before and during', async () => {
    const r = await run(
      { contexts: ['kind-faultline'], crds: true, inject: true, probeDuringMs: [1501, 1502, 1503] },
      {},
      'double-submit',
    );
    const journal = r.journal as RunJournal;
    expect(journal.fault.evidence.join('\n')).toContain(
      'probe from deployment/gateway: connects gateway → orders:grpc: 1.0 ms median of 3 before, 1502.0 ms median of 3 during (the delay is 1500 ms): the services’ path is delayed',
    );
    expect(
      r.calls.some(
        (c) => c.includes('deployment/gateway') && c.includes('-e') && c.includes('orders') && c.includes('50051'),
      ),
    ).toBe(true);
    expect(journal.fault.fired).toBe(true);
  });

  it('a NetworkChaos Chaos Mesh calls injected that the services’ path does not show is not proven: INCONCLUSIVE', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: true }, {}, 'double-submit');
    const journal = r.journal as RunJournal;
    expect(journal.fault.evidence.join('\n')).toContain('NOT delayed on the services’ path');
    expect(journal).toMatchObject({ verdict: 'INCONCLUSIVE', fault: { fired: false } });
    expect(r.code).toBe(3);
  });

  it('kafka-reachable does not hold when the broker lacks a lab topic: nothing is applied', async () => {
    const r = await run({
      contexts: ['kind-faultline'],
      crds: true,
      inject: true,
      topics: ['orders.events', 'inventory.events', 'orders.events.dlq'],
    });
    const journal = r.journal as RunJournal;
    expect(journal.steadyState.find((p) => p.probe === 'kafka-reachable')).toEqual({
      probe: 'kafka-reachable',
      ok: false,
      detail: 'kafka StatefulSet ready, topics missing: inventory.events.dlq',
    });
    expect(journal).toMatchObject({
      verdict: 'ABORTED',
      reason: 'the steady state did not hold before the fault: nothing was injected',
    });
    expect(mutations(r.calls)).toEqual([]);
    // The topics are read in the kafka pod, on the broker's loopback listener.
    expect(
      r.calls.some(
        (c) =>
          c.includes('statefulset/kafka') &&
          c.includes('/opt/kafka/bin/kafka-topics.sh') &&
          c[c.indexOf('--bootstrap-server') + 1] === '127.0.0.1:9094',
      ),
    ).toBe(true);
  });

  it('a Chaos Mesh object that never reports injection ends INCONCLUSIVE (exit 3), and is still deleted', async () => {
    const r = await run({ contexts: ['kind-faultline'], crds: true, inject: false });
    const journal = r.journal as RunJournal;
    expect(journal).toMatchObject({ target: 'kind', verdict: 'INCONCLUSIVE', fault: { fired: false } });
    expect(journal.reason).toContain('not proven to have fired');
    expect(journal.fault.evidence.join('\n')).toContain(
      'PodChaos relay-crash (kill 1 of 2): NOT proven within 5 s: no record yet',
    );
    // Whatever was applied is deleted, proven or not.
    expect(mutations(r.calls)).toEqual([
      `apply ${MANIFEST}`,
      `delete ${MANIFEST}`,
      `apply ${MANIFEST}`,
      `delete ${MANIFEST}`,
    ]);
    expect(r.code).toBe(3);
  });
});
