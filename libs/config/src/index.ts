export { ConfigError, loadConfig } from './load-config';
export { env } from './env-fields';
