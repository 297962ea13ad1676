// Status parsing of Chaos Mesh objects. The fixtures are what `kubectl get <kind> <name> -o json` answers at each stage
// of a fault's life (written here by hand, after Chaos Mesh v2.8.3's controller); each one is first validated against
// the status schema of the official CRD, read from ../shared/schemas (never copied into the repo), so a fixture that
// drifts from what the controller can write fails here instead of proving the parser against fiction.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { findRepoRoot } from '../../layout/lab-layout';
import { cpuCores, GONE, injection, parseChaosState, parsePods, podEvidence, recovery } from './chaos-mesh-status';

const SCHEMAS = join(findRepoRoot(), '..', 'shared', 'schemas', 'chaos-mesh-v2.8.3');
type Json = Record<string, unknown>;

/** Objects that declare `properties` accept nothing else: a misspelt status field fails the fixture. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) out[k] = closeObjects(v);
  if (out['properties'] && out['additionalProperties'] === undefined && !out['x-kubernetes-preserve-unknown-fields'])
    out['additionalProperties'] = false;
  return out;
}

function statusValidator(file: string) {
  if (!existsSync(SCHEMAS))
    throw new Error(
      `Chaos Mesh CRD schemas not found at ${SCHEMAS}: these tests need ../shared/schemas/chaos-mesh-v2.8.3`,
    );
  const crd = parse(readFileSync(join(SCHEMAS, file), 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: { properties: Json } } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
  if (!version) throw new Error(`${file} has no v1alpha1`);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(closeObjects(version.schema.openAPIV3Schema.properties['status']) as Json);
}

const validators = {
  PodChaos: statusValidator('chaos-mesh.org_podchaos.yaml'),
  NetworkChaos: statusValidator('chaos-mesh.org_networkchaos.yaml'),
};

/** A fixture object, after checking its status against the CRD. */
function object(kind: keyof typeof validators, name: string, status: Json): string {
  const validate = validators[kind];
  if (!validate(status))
    throw new Error(`fixture ${kind} ${name} does not match the CRD status schema: ${JSON.stringify(validate.errors)}`);
  return JSON.stringify({
    apiVersion: 'chaos-mesh.org/v1alpha1',
    kind,
    metadata: {
      name,
      namespace: 'faultline',
      uid: 'b3c1a0de-0000-4000-8000-000000000001',
      finalizers: ['chaos-mesh/records'],
    },
    spec: {},
    status,
  });
}

const t = '2026-11-27T23:10:04Z';
const conditions = (selected: boolean, injected: boolean, recovered: boolean) => [
  { type: 'Selected', status: selected ? 'True' : 'False' },
  { type: 'AllInjected', status: injected ? 'True' : 'False' },
  { type: 'AllRecovered', status: recovered ? 'True' : 'False' },
  { type: 'Paused', status: 'False' },
];
const RELAY_POD = 'outbox-relay-orders-6f9c7d5b8-q4z2k';

const podKillInjected = object('PodChaos', 'relay-crash', {
  conditions: conditions(true, true, false),
  experiment: {
    desiredPhase: 'Run',
    containerRecords: [
      {
        id: `faultline/${RELAY_POD}`,
        selectorKey: '.',
        phase: 'Injected',
        injectedCount: 1,
        recoveredCount: 0,
        events: [{ type: 'Succeeded', operation: 'Apply', timestamp: t }],
      },
    ],
  },
});
const justCreated = object('PodChaos', 'relay-crash', { experiment: { desiredPhase: 'Run' } });
const nothingSelected = object('PodChaos', 'relay-crash', {
  conditions: conditions(false, false, false),
  experiment: { desiredPhase: 'Run' },
});
const delayFailing = object('NetworkChaos', 'recs-latency', {
  conditions: conditions(true, false, false),
  experiment: {
    desiredPhase: 'Run',
    containerRecords: [
      {
        id: 'faultline/recommendations-7b4d9f6c5-mx8lp',
        selectorKey: '.',
        phase: 'Not Injected',
        injectedCount: 0,
        recoveredCount: 0,
        events: [
          {
            type: 'Failed',
            operation: 'Apply',
            message: 'rpc error: code = Unknown desc = error code: Error: Specified qdisc kind is unknown.',
            timestamp: t,
          },
        ],
      },
    ],
  },
  instances: { 'faultline/recommendations-7b4d9f6c5-mx8lp': 1 },
});
const delayRecovered = object('NetworkChaos', 'recs-latency', {
  conditions: conditions(true, false, true),
  experiment: {
    desiredPhase: 'Stop',
    containerRecords: [
      {
        id: 'faultline/recommendations-7b4d9f6c5-mx8lp',
        selectorKey: '.',
        phase: 'Not Injected',
        injectedCount: 1,
        recoveredCount: 1,
        events: [
          { type: 'Succeeded', operation: 'Apply', timestamp: t },
          { type: 'Succeeded', operation: 'Recover', timestamp: '2026-11-27T23:11:04Z' },
        ],
      },
    ],
  },
});

describe('Chaos Mesh status', () => {
  it('the fixtures are checked: a status field the CRD does not declare is refused', () => {
    expect(() => object('PodChaos', 'typo', { experiment: { desiredPhase: 'Run', containerRecord: [] } })).toThrow(
      'does not match the CRD status schema',
    );
  });

  it('a PodChaos with AllInjected=True and an injected record is injected, naming the pod', () => {
    const state = parseChaosState(podKillInjected);
    expect(state.conditions).toEqual({ Selected: true, AllInjected: true, AllRecovered: false, Paused: false });
    expect(state.records).toEqual([
      { id: `faultline/${RELAY_POD}`, phase: 'Injected', injectedCount: 1, recoveredCount: 0, failures: [] },
    ]);
    expect(injection(state)).toEqual({
      injected: true,
      detail: `AllInjected=True, injected into faultline/${RELAY_POD}`,
    });
    expect(recovery(state).recovered).toBe(false);
  });

  it('an object the controller has not reconciled yet, or whose selector matches nothing, is not injected', () => {
    expect(injection(parseChaosState(justCreated))).toEqual({
      injected: false,
      detail: 'no record yet: Chaos Mesh has not selected any target',
    });
    expect(injection(parseChaosState(nothingSelected)).detail).toContain('Selected=False');
    expect(injection(GONE)).toEqual({ injected: false, detail: 'the object does not exist' });
  });

  it('a failed injection is not injected and carries Chaos Mesh’s message', () => {
    const result = injection(parseChaosState(delayFailing));
    expect(result.injected).toBe(false);
    expect(result.detail).toContain('faultline/recommendations-7b4d9f6c5-mx8lp (Not Injected)');
    expect(result.detail).toContain('Apply failed: rpc error');
  });

  it('AllRecovered=True or a deleted object is recovered; AllInjected=True alone is not', () => {
    expect(recovery(parseChaosState(delayRecovered))).toEqual({
      recovered: true,
      detail: 'AllRecovered=True (faultline/recommendations-7b4d9f6c5-mx8lp recovered 1×)',
    });
    expect(recovery(GONE).recovered).toBe(true);
    expect(recovery(parseChaosState(delayFailing)).recovered).toBe(false);
  });
});

const podList = (pods: { name: string; uid: string; ready: boolean; deleting?: boolean; restarts?: number }[]) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: pods.map((p) => ({
      metadata: { name: p.name, uid: p.uid, ...(p.deleting ? { deletionTimestamp: t } : {}) },
      status: {
        conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }],
        containerStatuses: [{ name: 'notifications', restartCount: p.restarts ?? 0 }],
      },
    })),
  });

describe('pod evidence', () => {
  const records = parseChaosState(podKillInjected).records;
  const before = parsePods(podList([{ name: RELAY_POD, uid: 'uid-old', ready: true }]));

  it('pod-kill is proven once the killed pod is gone and a new ready pod replaced it', () => {
    const replaced = parsePods(podList([{ name: 'outbox-relay-orders-6f9c7d5b8-n7w4c', uid: 'uid-new', ready: true }]));
    expect(podEvidence('pod-kill', [], records, before, replaced)).toMatchObject({ proven: true });
  });

  it('pod-kill is not proven while the old pod still runs, or while its replacement is not ready', () => {
    expect(podEvidence('pod-kill', [], records, before, before).proven).toBe(false);
    const starting = parsePods(
      podList([
        { name: RELAY_POD, uid: 'uid-old', ready: false, deleting: true },
        { name: 'outbox-relay-orders-6f9c7d5b8-n7w4c', uid: 'uid-new', ready: false },
      ]),
    );
    expect(podEvidence('pod-kill', [], records, before, starting)).toMatchObject({
      proven: false,
      detail: expect.stringContaining('0 new ready pod(s)'),
    });
  });

  it('container-kill is proven by the container’s restart count', () => {
    const pod = 'notifications-5c6d7e8f9-abcde';
    const recs = [
      { id: `faultline/${pod}/notifications`, phase: 'Injected', injectedCount: 1, recoveredCount: 0, failures: [] },
    ];
    const b = parsePods(podList([{ name: pod, uid: 'u', ready: true, restarts: 0 }]));
    expect(podEvidence('container-kill', ['notifications'], recs, b, b).proven).toBe(false);
    expect(
      podEvidence(
        'container-kill',
        ['notifications'],
        recs,
        b,
        parsePods(podList([{ name: pod, uid: 'u', ready: true, restarts: 1 }])),
      ).proven,
    ).toBe(true);
  });

  it('reads each container’s CPU limit from the pod spec, in cores', () => {
    const list = JSON.stringify({
      kind: 'List',
      items: [
        {
          metadata: { name: 'inventory-1', uid: 'u' },
          spec: { containers: [{ name: 'inventory', resources: { limits: { cpu: '500m' } } }, { name: 'sidecar' }] },
          status: {},
        },
      ],
    });
    expect(parsePods(list)[0].cpuLimits).toEqual({ inventory: 0.5 });
    expect([cpuCores('500m'), cpuCores('1'), cpuCores('0.25'), cpuCores('1500m')]).toEqual([0.5, 1, 0.25, 1.5]);
    expect(() => cpuCores('1Gi')).toThrow('not a CPU quantity');
  });
});
