/** Route classes with their own in-flight bound, so one cannot take another's capacity. */
export type RouteClass = 'reads' | 'writes' | 'recommendations';

/**
 * The class of a request, or undefined for what is never shed (health, metrics, docs: probes and scrapes must keep
 * answering precisely when the gateway is overloaded).
 */
export function routeClassOf(method: string, path: string): RouteClass | undefined {
  if (!path.startsWith('/v1/')) return undefined;
  if (path === '/v1/recommendations' || path.startsWith('/v1/recommendations/')) return 'recommendations';
  return method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
}
