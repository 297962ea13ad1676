import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from '../process/lab-error';
import {
  checkPrerequisites,
  imageTag,
  KIND_APP_IMAGES,
  KIND_WORKLOADS,
  KindStep,
  missingTools,
  planKindDown,
  planKindUp,
  renderImageOverlay,
  renderSecretsManifest,
  statusFromKubectl,
} from './kind-plan';

const paths = { root: '/repo', stateDir: '/repo/.lab/kind' };
const secrets = {
  jwtPublicKeyPem: '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n',
  postgresPassword: 'p@ss/word',
  relayPassword: 'r:elay',
  postgresPort: 5432,
};
const argvs = (steps: KindStep[]) =>
  steps.filter((s): s is Extract<KindStep, { type: 'run' }> => s.type === 'run').map((s) => s.argv.join(' '));

describe('prerequisites', () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'kind-path-'));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const fakeTool = (name: string) => {
    writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, name), 0o755);
  };

  it('names every missing tool with how to install it, on a PATH that has none of them', () => {
    const env = { PATH: bin };
    expect(missingTools(env).map((t) => t.name)).toEqual(['docker', 'kind', 'kubectl', 'helm', 'git']);
    let error: unknown;
    try {
      checkPrerequisites(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LabError);
    const message = (error as LabError).describe();
    expect(message).toMatch(/^kind: the kind target needs docker, kind, kubectl, helm, git:/);
    expect(message).toMatch(
      /docker not found on PATH: install Docker Engine 28 or newer \(https:\/\/docs\.docker\.com\/engine\/install\/\)/,
    );
    expect(message).toMatch(/kind not found on PATH: install kind v0\.27 or newer/);
    expect(message).toMatch(/kubectl not found on PATH: install kubectl v1\.32 or newer/);
    expect(message).toMatch(/helm not found on PATH: install Helm 3 \(https:\/\/helm\.sh\/docs\/intro\/install\/\)/);
  });

  it('names only the one that is missing', () => {
    for (const tool of ['docker', 'kind', 'kubectl', 'git']) fakeTool(tool);
    expect(() => checkPrerequisites({ PATH: bin })).toThrow(/needs helm:\n {2}- helm not found on PATH/);
    expect(() => checkPrerequisites({ PATH: bin }, ['kind', 'kubectl'])).not.toThrow();
  });

  it('passes when every tool is on PATH', () => {
    for (const tool of ['docker', 'kind', 'kubectl', 'helm', 'git']) fakeTool(tool);
    expect(() => checkPrerequisites({ PATH: bin })).not.toThrow();
  });

  it('does not count a file that is not executable', () => {
    writeFileSync(join(bin, 'helm'), '');
    expect(missingTools({ PATH: bin }, ['helm']).map((t) => t.name)).toEqual(['helm']);
  });
});

describe('planKindUp', () => {
  const plan = planKindUp({ ...paths, clusterExists: false, tag: 'abc1234', platform: 'linux/amd64', secrets });
  const commands = argvs(plan);

  it('creates the cluster from k8s/kind/cluster.yaml only when it is absent', () => {
    expect(commands[0]).toBe('kind create cluster --name faultline --config /repo/k8s/kind/cluster.yaml --wait 180s');
    expect(
      argvs(planKindUp({ ...paths, clusterExists: true, tag: 'abc1234', platform: 'linux/amd64', secrets })).some((c) =>
        c.startsWith('kind create'),
      ),
    ).toBe(false);
  });

  it('builds one image per app from docker/Dockerfile for the daemon’s platform, tagged with the sha', () => {
    for (const app of KIND_APP_IMAGES) {
      expect(commands).toContain(
        `docker build --platform linux/amd64 --file /repo/docker/Dockerfile --build-arg APP=${app} --tag faultline/${app}:abc1234 /repo`,
      );
    }
    expect(() => planKindUp({ ...paths, clusterExists: true, tag: 'abc1234', platform: '', secrets })).toThrow(
      /not a Docker platform/,
    );
  });

  // `kind load docker-image` pipes `docker save` into the node's `ctr import --all-platforms`. With Docker's containerd
  // image store, `docker save` writes an index naming every platform's manifest but only the local one's content, and
  // the import fails on the missing digests (kind#3795). Saving one platform to an archive and loading it avoids that.
  it('saves the images for one platform to an archive and loads that archive, never `kind load docker-image`', () => {
    const archive = '/repo/.lab/kind/images/faultline-images.tar';
    const images = KIND_APP_IMAGES.map((a) => `faultline/${a}:abc1234`).join(' ');
    const save = commands.indexOf(`docker image save --platform linux/amd64 --output ${archive} ${images}`);
    const load = commands.indexOf(`kind load image-archive --name faultline ${archive}`);
    expect(save).toBeGreaterThan(commands.findLastIndex((c) => c.startsWith('docker build')));
    expect(load).toBe(save + 1);
    expect(commands.filter((c) => c.startsWith('kind load docker-image'))).toEqual([]);
  });

  it('installs Chaos Mesh with the pinned chart and only the values file the cluster budget test reads', () => {
    const helm = commands.find((c) => c.startsWith('helm upgrade'));
    expect(helm).toBe(
      'helm upgrade --install chaos-mesh chaos-mesh/chaos-mesh --kube-context kind-faultline --namespace chaos-mesh --create-namespace --version 2.8.3 --values /repo/k8s/kind/chaos-mesh-values.yaml --wait --timeout 10m',
    );
  });

  it('runs in the right order: cluster, images, load, chaos mesh, secrets, manifests, waits', () => {
    const index = (prefix: string) => commands.findIndex((c) => c.startsWith(prefix));
    const order = [
      'kind create',
      'docker build',
      'docker image save',
      'kind load',
      'helm repo add',
      'helm upgrade',
      'kubectl --context kind-faultline apply --server-side --field-manager=faultline-lab -f',
      'kubectl --context kind-faultline apply --server-side --field-manager=faultline-lab --force-conflicts -k',
      'kubectl --context kind-faultline --namespace faultline rollout status statefulset/postgres',
    ];
    const positions = order.map(index);
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('writes the secrets and the image overlay before applying them, under .lab/kind', () => {
    const writes = plan.filter((s): s is Extract<KindStep, { type: 'write' }> => s.type === 'write');
    expect(writes.map((w) => [w.file, w.mode])).toEqual([
      ['/repo/.lab/kind/secrets/secrets.json', 0o600],
      ['/repo/.lab/kind/overlay/kustomization.yaml', 0o644],
    ]);
    expect(plan.findIndex((s) => s.type === 'write' && s.file.endsWith('secrets.json'))).toBeLessThan(
      plan.findIndex((s) => s.type === 'run' && s.argv.includes('/repo/.lab/kind/secrets/secrets.json')),
    );
  });

  it('waits for every workload, the topics Job to complete', () => {
    for (const w of KIND_WORKLOADS) {
      expect(commands).toContain(
        w.kind === 'job'
          ? `kubectl --context kind-faultline --namespace faultline wait --for=condition=complete job/${w.name} --timeout=300s`
          : `kubectl --context kind-faultline --namespace faultline rollout status ${w.kind}/${w.name} --timeout=300s`,
      );
    }
  });

  it('down deletes the cluster', () => {
    expect(argvs(planKindDown())).toEqual(['kind delete cluster --name faultline']);
  });
});

describe('generated files', () => {
  it('Secrets hold the public key and the Postgres URLs (the relays as their REPLICATION role), never the private key', () => {
    const list = JSON.parse(renderSecretsManifest(secrets)) as {
      items: { kind: string; metadata: { name: string }; stringData?: Record<string, string> }[];
    };
    const byName = Object.fromEntries(list.items.map((i) => [i.metadata.name, i]));
    expect(byName['jwt-keys'].stringData).toEqual({ 'jwt-public.pem': secrets.jwtPublicKeyPem });
    expect(byName['postgres-credentials'].stringData).toEqual({
      password: 'p@ss/word',
      'orders-url': 'postgres://postgres:p%40ss%2Fword@postgres:5432/orders',
      'inventory-url': 'postgres://postgres:p%40ss%2Fword@postgres:5432/inventory',
      'notifications-url': 'postgres://postgres:p%40ss%2Fword@postgres:5432/notifications',
      'outbox-relay-password': 'r:elay',
      'outbox-relay-orders-url': 'postgres://outbox_relay:r%3Aelay@postgres:5432/orders',
      'outbox-relay-inventory-url': 'postgres://outbox_relay:r%3Aelay@postgres:5432/inventory',
    });
    expect(renderSecretsManifest(secrets)).not.toMatch(/PRIVATE KEY/);
  });

  it('the image overlay builds on the committed overlay and pins every app image', () => {
    const overlay = renderImageOverlay(paths, 'abc1234');
    expect(overlay).toContain('  - "../../../k8s/overlays/kind"');
    for (const app of KIND_APP_IMAGES) expect(overlay).toContain(`  - { name: faultline/${app}, newTag: "abc1234" }`);
  });

  it('tags images with the short sha, suffixed when the tree is dirty', () => {
    expect(imageTag('abc1234', false, 1)).toBe('abc1234');
    expect(imageTag('abc1234', true, 1700000000)).toBe('abc1234-dirty-1700000000');
    expect(() => imageTag('latest', false, 1)).toThrow(/not a git short sha/);
  });
});

describe('statusFromKubectl', () => {
  it('reports each workload ready or not, with restarts summed over its pods', () => {
    const json = JSON.stringify({
      items: [
        {
          kind: 'Deployment',
          metadata: { name: 'gateway' },
          spec: { replicas: 1, template: { spec: { containers: [{ image: 'faultline/gateway:abc1234' }] } } },
          status: { replicas: 1, readyReplicas: 1 },
        },
        {
          kind: 'Deployment',
          metadata: { name: 'orders' },
          spec: { replicas: 1, template: { spec: { containers: [{ image: 'faultline/orders:abc1234' }] } } },
          status: { replicas: 1 },
        },
        {
          kind: 'StatefulSet',
          metadata: { name: 'postgres' },
          spec: { replicas: 1, template: { spec: { containers: [{ image: 'postgres:17.6-bookworm' }] } } },
          status: { replicas: 1, readyReplicas: 1 },
        },
        { kind: 'Job', metadata: { name: 'kafka-topics' }, status: { succeeded: 1 } },
        {
          kind: 'Pod',
          metadata: { name: 'orders-x', labels: { 'app.kubernetes.io/name': 'orders' } },
          status: { containerStatuses: [{ restartCount: 2 }] },
        },
      ],
    });
    const rows = statusFromKubectl(json);
    expect(rows.map((r) => [r.name, r.kind, r.state, r.healthy, r.restarts])).toEqual([
      ['gateway', 'service', 'running', true, 0],
      ['orders', 'service', 'unhealthy', false, 2],
      ['postgres', 'infra', 'running', true, 0],
      ['kafka-topics', 'infra', 'running', true, 0],
    ]);
    expect(rows[0]).toMatchObject({ url: 'http://localhost:8080', port: 8080 });
    expect(rows[1].detail).toBe('0/1 ready');
  });
});
