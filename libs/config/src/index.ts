export { ConfigError, loadConfig } from './load-config';
export { env, tracingEnvFields } from './env-fields';
