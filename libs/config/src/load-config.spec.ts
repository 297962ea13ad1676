import { z } from 'zod';
import { ConfigError, env, loadConfig } from './index';

const schema = z.object({
  HTTP_PORT: env.port(),
  DATABASE_URL: env.url('postgres', 'postgresql'),
  KAFKA_BROKERS: env.brokers(),
  ORDERS_PUBLISH: env.oneOf(['outbox', 'dual-write'] as const).default('outbox'),
  LOG_LEVEL: env.logLevel().default('info'),
});

const valid = {
  HTTP_PORT: '9401',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:15432/orders',
  KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19094',
};

function problemsOf(source: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig('orders', schema, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig('orders', schema, valid);
    expect(config).toEqual({
      HTTP_PORT: 9401,
      DATABASE_URL: valid.DATABASE_URL,
      KAFKA_BROKERS: ['127.0.0.1:19092', '127.0.0.1:19094'],
      ORDERS_PUBLISH: 'outbox',
      LOG_LEVEL: 'info',
    });
  });

  it.each([
    ['HTTP_PORT', 'abc', /HTTP_PORT="abc" is invalid/],
    ['HTTP_PORT', '70000', /HTTP_PORT="70000" is invalid: a port is from 1 to 65535/],
    [
      'DATABASE_URL',
      'mysql://x/y',
      /DATABASE_URL="mysql:\/\/x\/y" is invalid: expected a URL starting with postgres:\/\//,
    ],
    ['KAFKA_BROKERS', 'localhost', /KAFKA_BROKERS="localhost" is invalid/],
    ['ORDERS_PUBLISH', 'sometimes', /ORDERS_PUBLISH="sometimes" is invalid/],
  ])('names %s when it is malformed (%s)', (variable, value, expected) => {
    const problems = problemsOf({ ...valid, [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('names every missing variable, treating empty strings as unset', () => {
    const problems = problemsOf({ HTTP_PORT: '', KAFKA_BROKERS: valid.KAFKA_BROKERS });
    expect(problems).toEqual([
      expect.stringMatching(/^HTTP_PORT is required but not set/),
      expect.stringMatching(/^DATABASE_URL is required but not set/),
    ]);
  });

  it('puts the service name and every problem in the message', () => {
    expect(() => loadConfig('orders', schema, {})).toThrow(/^orders: invalid configuration\n {2}- HTTP_PORT/);
  });
});
