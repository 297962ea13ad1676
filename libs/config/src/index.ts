export { ConfigError, loadConfig } from './load-config';
export { env, readinessEnvFields, tracingEnvFields } from './env-fields';
