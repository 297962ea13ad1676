import { Controller, Get, Header, HttpCode, Inject, OnModuleDestroy, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../metrics/metrics';
import { DEPENDENCY_PROBES, DependencyProbe, runProbes } from './dependency-probe';

/** How long one readiness check may wait for a dependency: well inside a Kubernetes probe's 1 s default timeout. */
const PROBE_TIMEOUT_MS = 800;

@Controller()
export class HealthController implements OnModuleDestroy {
  constructor(
    @Inject(DEPENDENCY_PROBES) private readonly probes: DependencyProbe[],
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** Liveness: the process answers. Never checks dependencies, or an outage elsewhere would restart us for nothing. */
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: every dependency this service cannot work without answers a real request. */
  @Get('readyz')
  async readyz(@Res() res: Response) {
    const checks = await runProbes(this.probes, PROBE_TIMEOUT_MS);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() res: Response) {
    res.setHeader('Content-Type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }

  async onModuleDestroy() {
    await Promise.all(this.probes.map((p) => p.close?.()));
  }
}
