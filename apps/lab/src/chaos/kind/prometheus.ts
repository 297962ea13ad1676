// The in-cluster Prometheus, read through the API server's service proxy (`kubectl get --raw`): no port-forward to
// manage, and it works whether or not the NodePort on localhost:9090 is mapped. The service name and port are the
// ones k8s/base declares (service `prometheus`, port `prometheus-web` in ports.yaml).
import { k8sPort } from '../../kind/k8s-ports';
import { KIND_NAMESPACE } from '../../kind/kind-plan';

export const prometheusPort = (root: string): number => k8sPort(root, 'prometheus-web');

/**
 * The API server path of an instant query:
 * /api/v1/namespaces/faultline/services/prometheus:9090/proxy/api/v1/query?query=…
 */
export function queryPath(port: number, promql: string): string {
  return `/api/v1/namespaces/${KIND_NAMESPACE}/services/prometheus:${port}/proxy/api/v1/query?query=${encodeURIComponent(promql)}`;
}
