import { z } from 'zod';

/** Raised when the environment does not satisfy an app's schema; `problems` has one line per variable. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates `source` (normally process.env) against an app's schema, where every key is an environment variable
 * name. Returns the parsed, typed value or throws ConfigError naming each missing or malformed variable.
 */
export function loadConfig<S extends z.ZodObject>(service: string, schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  // Empty strings count as unset, as shells and Kubernetes manifests tend to produce them.
  const input = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // The variable is the first path element; deeper elements (a broker's index in a list) are not variables.
    const variable = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    const received = input[String(issue.path[0])];
    if (received === undefined) return `${variable} is required but not set (${issue.message})`;
    return `${variable}=${JSON.stringify(received)} is invalid: ${issue.message}`;
  });
  throw new ConfigError(service, problems);
}
