import Redis from 'ioredis';
import type { DependencyProbe } from './dependency-probe';

/** Readiness of Redis: a real PING. The client fails fast instead of queueing commands while Redis is away. */
export function redisProbe(url: string, name = 'redis'): DependencyProbe {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    // Keep trying to reconnect in the background, at most once a second, so readiness recovers after Redis does.
    retryStrategy: () => 1000,
  });
  client.on('error', () => undefined);
  return {
    name,
    check: async () => {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      const answer = await client.ping();
      if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
    },
    close: async () => {
      client.disconnect();
    },
  };
}
