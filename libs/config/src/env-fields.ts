import { z } from 'zod';

/** Field types for environment variables: strings in, typed values out, with messages a user can act on. */
export const env = {
  port: () =>
    z.coerce
      .number({ message: 'expected a port number' })
      .int('expected a whole number')
      .min(1, 'a port is from 1 to 65535')
      .max(65535, 'a port is from 1 to 65535'),

  positiveInt: (message = 'expected a positive whole number') =>
    z.coerce.number({ message }).int(message).positive(message),

  /** A URL with one of the given schemes, e.g. postgres://… or redis://…. */
  url: (...schemes: string[]) =>
    z.string().refine(
      (value) => {
        try {
          return schemes.length === 0 || schemes.includes(new URL(value).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      `expected a URL${schemes.length ? ` starting with ${schemes.map((s) => `${s}://`).join(' or ')}` : ''}`,
    ),

  /** host:port, as gRPC clients take it. */
  hostPort: () => z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port'),

  /** A comma-separated list of host:port Kafka brokers. */
  brokers: () =>
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port'))
          .min(1, 'expected at least one broker'),
      ),

  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),

  /** One of a fixed set of words, for the lab's switchable variants (ORDERS_PUBLISH=outbox|dual-write). */
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values),

  /** A duration in milliseconds, bounded so a typo cannot turn a deadline into an hour. */
  millis: (max = 600_000) => z.coerce.number({ message: 'expected milliseconds' }).int().min(1).max(max),
};

/**
 * Read by @faultline/tracing before the config is loaded (tracing must start first); declared here so a typo is
 * still refused at start and the Kubernetes manifests' environment can be checked against every schema.
 */
export const tracingEnvFields = {
  /** Where spans go as OTLP/HTTP (…/v1/traces is appended); unset: spans are recorded and propagated, not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url('http', 'https').optional(),
  /** Overrides the service name in traces (the two outbox relays set it to tell themselves apart). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** `key=value,…` attributes on every span; on Kubernetes `k8s.pod.name` and `k8s.namespace.name`. */
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  /** The pod's name and namespace from the downward API, which OTEL_RESOURCE_ATTRIBUTES cites as $(K8S_POD_NAME)… */
  K8S_POD_NAME: z.string().min(1).optional(),
  K8S_NAMESPACE_NAME: z.string().min(1).optional(),
};

/**
 * What readiness (`/readyz` and the named gRPC health service) checks. `process`: this process serves; on Kubernetes
 * an unready pod leaves its Service, so readiness that followed a dependency would take every caller out of service
 * during that dependency's outage. `dependencies`: every dependency probe answers too; the local target's `lab up`
 * and `lab status` wait on that to know the whole lab is connected, hence the default.
 */
export const readinessEnvFields = {
  READINESS: env.oneOf(['dependencies', 'process'] as const).default('dependencies'),
};
