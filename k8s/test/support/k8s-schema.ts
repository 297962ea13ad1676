import { join } from 'node:path';
import { root, type K8sObject } from './repo';

const GROUPS: Record<string, string> = {
  '': 'Core',
  apps: 'Apps',
  batch: 'Batch',
  'networking.k8s.io': 'Networking',
  'rbac.authorization.k8s.io': 'Rbac',
  policy: 'Policy',
};

type Validate = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null;
};

/** kubernetes-models' compiled validator for one apiVersion/kind (Kubernetes 1.33 schemas). */
function validatorFor(apiVersion: string, kind: string): Validate {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const prefix = GROUPS[group];
  if (!prefix)
    throw new Error(
      `no schema mapping for API group "${group}" (${apiVersion} ${kind}); add it to k8s/test/support/k8s-schema.ts`,
    );
  const name = `IoK8sApi${prefix}${version[0].toUpperCase()}${version.slice(1)}${kind}`;
  // By file path: the package's export map does not expose its _schemas folder.
  return (require(join(root, 'node_modules', 'kubernetes-models', '_schemas', `${name}.js`)) as { validate: Validate })
    .validate;
}

/**
 * Schema errors plus unknown fields. kubernetes-models checks types and enums but lets unknown keys through, as the
 * API server's strict field validation would not. Its validators are compiled code that read every property the
 * schema declares (and enumerate the keys of free-form maps such as labels), so the object is handed to the
 * validator through a Proxy that records what it looked at: any key of a non-map object that the validator never
 * read is a field the schema does not know.
 */
export function validateObject(object: K8sObject): string[] {
  const where = `${object.kind}/${object.metadata?.name}`;
  let validate: Validate;
  try {
    validate = validatorFor(object.apiVersion, object.kind);
  } catch (error) {
    return [`${where}: ${(error as Error).message}`];
  }
  const visits = new Map<object, { path: string; read: Set<string>; enumerated: boolean }>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const target = value as Record<string, unknown>;
    const cached = proxies.get(target);
    if (cached) return cached;
    const visit = { path, read: new Set<string>(), enumerated: false };
    visits.set(target, visit);
    const proxy = new Proxy(target, {
      get(t, key) {
        if (typeof key !== 'string') return Reflect.get(t, key);
        visit.read.add(key);
        return wrap(t[key], `${path}/${key}`);
      },
      ownKeys(t) {
        visit.enumerated = true;
        return Reflect.ownKeys(t);
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  const problems: string[] = [];
  if (!validate(wrap(object, ''))) {
    for (const e of validate.errors ?? [])
      problems.push(`${where}: ${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  }
  for (const [target, visit] of visits) {
    if (Array.isArray(target) || visit.enumerated) continue;
    for (const key of Object.keys(target))
      if (!visit.read.has(key)) problems.push(`${where}: unknown field ${visit.path}/${key}`);
  }
  return problems;
}
