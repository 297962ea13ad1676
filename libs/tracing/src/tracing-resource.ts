import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OTEL_RESOURCE_ATTRIBUTES as the OpenTelemetry specification writes it: `key=value` pairs separated by commas, values
 * percent-encoded. A malformed pair is left out rather than stopping the service from starting.
 */
export function resourceAttributesFromEnv(value: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at <= 0 || !key) continue;
    try {
      attributes[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      /* not percent-encoded properly: left out */
    }
  }
  return attributes;
}

/**
 * What every span of this process carries: OTEL_RESOURCE_ATTRIBUTES (on Kubernetes the pod's name and namespace, from
 * the downward API, so a span says which pod made it), then the service name, which always wins.
 */
export function tracingResource(serviceName: string, env: NodeJS.ProcessEnv = process.env): Resource {
  return resourceFromAttributes({
    ...resourceAttributesFromEnv(env['OTEL_RESOURCE_ATTRIBUTES']),
    [ATTR_SERVICE_NAME]: serviceName,
  });
}
