import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * A port number of the kind manifests, from the one place they are declared (k8s/base/ports.yaml, key
 * `<workload>-<container port name>`; a Service's port is its container's). An unknown key is an error.
 */
export function k8sPort(root: string, key: string): number {
  const ports = parse(readFileSync(join(root, 'k8s', 'base', 'ports.yaml'), 'utf8')) as {
    data: Record<string, string>;
  };
  const port = Number(ports.data[key]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no port ${key} in k8s/base/ports.yaml`);
  return port;
}
