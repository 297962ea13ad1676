// Every app refuses to start on a missing or malformed variable, with a message that names it, and exits with
// EX_CONFIG (78) so the supervisor and Kubernetes can tell a configuration error from a crash. Runs the built apps
// (dist/, made by `npm run build` before the tests) as real processes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CONFIG } from '../src/run-service';

const root = join(__dirname, '..', '..', '..');
const entry = (app: string) => join(root, 'dist', 'apps', app, 'src', 'main.js');

/** A complete, valid environment per app; each case below breaks one variable of it. */
const valid: Record<string, Record<string, string>> = {
  orders: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/orders', KAFKA_BROKERS: '127.0.0.1:1' },
  inventory: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/inventory', KAFKA_BROKERS: '127.0.0.1:1' },
  recommendations: { REDIS_URL: 'redis://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1' },
  notifications: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/notifications', KAFKA_BROKERS: '127.0.0.1:1' },
  'outbox-relay': {
    RELAY_SOURCE: 'orders',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/orders',
    KAFKA_BROKERS: '127.0.0.1:1',
  },
  gateway: {
    REDIS_URL: 'redis://127.0.0.1:1',
    ORDERS_GRPC_ADDRESS: '127.0.0.1:1',
    INVENTORY_GRPC_ADDRESS: '127.0.0.1:1',
    RECOMMENDATIONS_GRPC_ADDRESS: '127.0.0.1:1',
    NOTIFICATIONS_GRPC_ADDRESS: '127.0.0.1:1',
    JWT_PUBLIC_KEY_FILE: __filename,
  },
};

function start(app: string, env: Record<string, string>) {
  // Only PATH from the outside: a variable set in the test runner's environment must not make a case pass.
  return spawnSync(process.execPath, [entry(app)], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const cases: [app: string, variable: string, value: string | undefined, expected: RegExp][] = [
  ['orders', 'DATABASE_URL', undefined, /DATABASE_URL is required but not set/],
  ['orders', 'ORDERS_PUBLISH', 'sometimes', /ORDERS_PUBLISH="sometimes" is invalid/],
  ['orders', 'GRPC_PORT', 'not-a-port', /GRPC_PORT="not-a-port" is invalid/],
  ['inventory', 'KAFKA_BROKERS', undefined, /KAFKA_BROKERS is required but not set/],
  [
    'inventory',
    'DATABASE_URL',
    'mysql://x/y',
    /DATABASE_URL="mysql:\/\/x\/y" is invalid: expected a URL starting with postgres:\/\//,
  ],
  ['recommendations', 'REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL="http:\/\/127.0.0.1:6379" is invalid/],
  ['notifications', 'HTTP_PORT', '99999', /HTTP_PORT="99999" is invalid: a port is from 1 to 65535/],
  ['outbox-relay', 'RELAY_SOURCE', undefined, /RELAY_SOURCE is required but not set/],
  ['outbox-relay', 'RELAY_SOURCE', 'payments', /RELAY_SOURCE="payments" is invalid/],
  [
    'gateway',
    'JWT_PUBLIC_KEY_FILE',
    '/nonexistent/key.pem',
    /JWT_PUBLIC_KEY_FILE="\/nonexistent\/key.pem" is invalid: no such file/,
  ],
  ['gateway', 'ORDERS_GRPC_ADDRESS', 'orders', /ORDERS_GRPC_ADDRESS="orders" is invalid: expected host:port/],
  ['gateway', 'LOG_LEVEL', 'loud', /LOG_LEVEL="loud" is invalid/],
];

describe('service configuration', () => {
  beforeAll(() => {
    for (const app of Object.keys(valid)) {
      if (!existsSync(entry(app)))
        throw new Error(`${entry(app)} is missing: run \`npm run build\` before the integration tests`);
    }
  });

  it.each(cases)('%s refuses to start when %s is %s', (app, variable, value, expected) => {
    const env = { ...valid[app] };
    if (value === undefined) delete env[variable];
    else env[variable] = value;
    const result = start(app, env);
    expect(result.status).toBe(EXIT_CONFIG);
    expect(result.stderr).toMatch(new RegExp(`^${app}: invalid configuration`));
    expect(result.stderr).toMatch(expected);
    // One problem, one line: the message names only the broken variable.
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  });

  it.each(Object.keys(valid))('%s names every missing variable when started with an empty environment', (app) => {
    const result = start(app, {});
    expect(result.status).toBe(EXIT_CONFIG);
    for (const variable of Object.keys(valid[app]))
      expect(result.stderr).toContain(`${variable} is required but not set`);
  });
});
