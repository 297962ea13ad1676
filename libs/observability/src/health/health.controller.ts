import { Controller, Get, Header, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../metrics/metrics';
import { Readiness } from './readiness';

@Controller()
export class HealthController {
  constructor(
    private readonly readiness: Readiness,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** Liveness: the process answers. Never checks dependencies, or an outage elsewhere would restart us for nothing. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness in the configured scope (READINESS: `process` on Kubernetes, `dependencies` on the local target). */
  @Get('readyz')
  async readyz(@Res() res: Response) {
    const { ready, scope, checks } = await this.readiness.check();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', scope, ...(checks ? { checks } : {}) });
  }

  /** Every dependency this service cannot work without, probed now, whatever the readiness scope. */
  @Get('readyz/dependencies')
  async dependencies(@Res() res: Response) {
    const { ready, checks } = await this.readiness.dependencies();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', scope: 'dependencies', checks });
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() res: Response) {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }
}
