import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const root = resolve(__dirname, '..', '..', '..');
export const k8s = join(root, 'k8s');

/** A rendered Kubernetes object, loosely typed: the tests walk it as data. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
};

export function kubectlPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Fails (never skips) when kubectl is absent: a render that did not happen must not look like a pass. */
export function requireKubectl(): string {
  const kubectl = kubectlPath();
  if (!kubectl) {
    throw new Error(
      'kubectl not found on PATH: these tests render the manifests with `kubectl kustomize` (kubectl v1.27+ bundles kustomize with components). Install kubectl v1.32 and re-run.',
    );
  }
  return kubectl;
}

export function kustomize(dir: string): K8sObject[] {
  const out = execFileSync(requireKubectl(), ['kustomize', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as K8sObject)
    .filter(Boolean);
}

/** The base with one component applied, as an overlay that switched it on would render it. */
export function kustomizeWithComponents(components: string[]): K8sObject[] {
  // Inside k8s/: kustomize refuses absolute resource paths, so the generated kustomization refers to ../base.
  const dir = mkdtempSync(join(k8s, '.render-'));
  try {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: faultline',
        'resources:',
        '  - ../base',
        'components:',
        ...components.map((c) => `  - ../components/${c}`),
      ].join('\n') + '\n',
    );
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ../shared/schemas, which CI always has; its absence is a failure that says so. */
export function sharedSchema(file: string): string {
  const path = join(root, '..', 'shared', 'schemas', file);
  if (!existsSync(path))
    throw new Error(
      `${path} not found: the shared schemas folder (../shared/schemas next to the repository) is required for this test; CI always provides it`,
    );
  return path;
}
