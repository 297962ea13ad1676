import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLogger } from '../logging/logger';
import { createMetricsRegistry } from '../metrics/metrics';
import { ObservabilityModule } from '../observability.module';
import { postgresProbe } from './postgres.probe';
import type { ReadinessScope } from './readiness';

/** One service's health endpoints, over real HTTP, with a Postgres that is not there (nothing listens on port 1). */
async function serve(readiness: ReadinessScope): Promise<{ app: INestApplication; url: string }> {
  const module = ObservabilityModule.forRoot({
    logger: createLogger('readiness-spec', 'silent'),
    registry: createMetricsRegistry('readiness-spec'),
    probes: [postgresProbe('postgres://postgres@127.0.0.1:1/none')],
    readiness,
  });
  const app = await NestFactory.create(module, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

const get = async (url: string) => {
  const response = await fetch(url);
  return {
    status: response.status,
    body: (await response.json()) as { status: string; scope: string; checks?: { name: string; ok: boolean }[] },
  };
};

describe('readiness', () => {
  it('process scope (Kubernetes): ready while the process serves, without asking the dead dependency', async () => {
    const { app, url } = await serve('process');
    try {
      expect(await get(`${url}/readyz`)).toEqual({ status: 200, body: { status: 'ready', scope: 'process' } });
      // The dependency's health is still one request away, for people and status pages.
      const deps = await get(`${url}/readyz/dependencies`);
      expect(deps.status).toBe(503);
      expect(deps.body.checks?.map((c) => [c.name, c.ok])).toEqual([['postgres', false]]);
    } finally {
      await app.close();
    }
  });

  it('dependencies scope (the local target): not ready while a dependency is down, naming it', async () => {
    const { app, url } = await serve('dependencies');
    try {
      const ready = await get(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({
        status: 'not ready',
        scope: 'dependencies',
        checks: [{ name: 'postgres', ok: false }],
      });
    } finally {
      await app.close();
    }
  });
});
