import 'reflect-metadata';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { ConfigError, loadConfig } from '@faultline/config';
import { isTransientError } from '@faultline/resilience';
import { GrpcServiceContract, grpcTransportOptions, HEALTH_V1 } from '@faultline/contracts';
import {
  createLogger,
  createMetricsRegistry,
  GrpcMetricsInterceptor,
  GrpcServerMetrics,
  grpcCodeName,
  Logger,
  PinoNestLogger,
  type ReadinessScope,
} from '@faultline/observability';
import { DomainError } from './grpc-errors';
import type { Registry } from 'prom-client';
import type { z } from 'zod';

/** sysexits' EX_CONFIG: the supervisor and Kubernetes see at a glance that the configuration is wrong. */
export const EXIT_CONFIG = 78;

/** How long a graceful shutdown may take before the process exits anyway; below Kubernetes' 30 s grace period. */
const SHUTDOWN_GRACE_MS = 20_000;

export interface ServiceKit {
  logger: Logger;
  registry: Registry;
  /** What readiness checks (the config's READINESS); the app module hands it to ObservabilityModule with the kit. */
  readiness: ReadinessScope;
}

export interface GrpcServer {
  port: number;
  /** The service's own contracts; the gRPC health service is always added. */
  services: GrpcServiceContract[];
}

export interface ServiceDefinition<S extends z.ZodObject> {
  name: string;
  schema: S;
  /** The config's LOG_LEVEL; every schema has one. */
  logLevel: (config: z.infer<S>) => string;
  /** The config's READINESS; every schema has one (libs/config readinessEnvFields). */
  readiness: (config: z.infer<S>) => ReadinessScope;
  http: (config: z.infer<S>) => { port: number; host?: string };
  grpc?: (config: z.infer<S>) => GrpcServer;
  module: (config: z.infer<S>, kit: ServiceKit) => DynamicModule;
}

/** Starts one service from its definition, or exits non-zero with a message that says why it cannot. */
export async function runService<S extends z.ZodObject>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<INestApplication> {
  let config: z.infer<S>;
  try {
    config = loadConfig(definition.name, definition.schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  // Where the service listens: every interface by default (a pod's IP on Kubernetes); the local target sets
  // BIND_HOST=127.0.0.1 so nothing it starts is reachable from the network, gateway included.
  const bindHost = env['BIND_HOST'] || '0.0.0.0';
  const logger = createLogger(definition.name, definition.logLevel(config));
  const registry = createMetricsRegistry(definition.name);
  try {
    const app = await NestFactory.create(
      definition.module(config, { logger, registry, readiness: definition.readiness(config) }),
      {
        logger: new PinoNestLogger(logger),
      },
    );
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    installShutdownFailsafe(logger);

    const grpc = definition.grpc?.(config);
    if (grpc) {
      // gRPC golden signals. connectMicroservice builds the gRPC handlers at once, so the interceptor must be global
      // before it, and reaches them only through inheritAppConfig (it passes HTTP requests through untouched).
      app.useGlobalInterceptors(new GrpcMetricsInterceptor(new GrpcServerMetrics(registry), grpcStatusOf));
      app.connectMicroservice<MicroserviceOptions>(
        {
          transport: Transport.GRPC,
          options: { url: `${bindHost}:${grpc.port}`, ...grpcTransportOptions(...grpc.services, HEALTH_V1) },
        },
        { inheritAppConfig: true },
      );
      await app.startAllMicroservices();
    }
    const http = definition.http(config);
    await app.listen(http.port, http.host ?? bindHost);
    logger.info(
      { host: http.host ?? bindHost, httpPort: http.port, grpcPort: grpc?.port },
      `${definition.name} started`,
    );
    return app;
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} failed to start`);
    process.exit(1);
  }
}

/**
 * The status GrpcErrorFilter answers for an error: a DomainError's code, a gRPC status already set, UNAVAILABLE for a
 * transient failure, else INTERNAL.
 */
function grpcStatusOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  return isTransientError(error) ? 'UNAVAILABLE' : grpcCodeName(error, 'INTERNAL');
}

function installShutdownFailsafe(logger: Logger) {
  const arm = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'graceful shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGTERM', () => arm('SIGTERM'));
  process.once('SIGINT', () => arm('SIGINT'));
}
