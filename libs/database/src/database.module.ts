import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, MigrationInterface } from 'typeorm';
import { poolMetricsProvider } from './pool-metrics';
import { slotMetricsProvider } from './slot-metrics';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

export interface DatabaseOptions {
  url: string;
  /** The service's migrations, oldest first; they run at start inside one transaction each. */
  migrations: (new () => MigrationInterface)[];
  /** Upper bound on connections: a service must not be able to exhaust the shared server's max_connections. */
  poolSize: number;
  /** Name shown in pg_stat_activity, so a lock or a slow query points at its service. */
  applicationName: string;
  /** Export the replication slots of this database (the outbox relay's): for the services whose outbox is relayed. */
  watchSlots?: boolean;
}

interface PgPoolEvents {
  on(
    event: 'connect',
    listener: (client: { on(event: 'error', listener: (error: Error) => void): void }) => void,
  ): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * A connection the server ends (pg_terminate_backend, a restart) emits 'error' on its pg client, and an 'error'
 * nobody listens to kills the process. The query in flight fails on its own and the pool drops the client; the
 * event itself is only logged, so a database blip never takes the service down with it.
 */
function survivePoolErrors(dataSource: DataSource): void {
  const pool = (dataSource.driver as unknown as { master?: PgPoolEvents }).master;
  const logger = new Logger('database');
  const warn = (error: Error) => logger.warn(`connection lost: ${error.message}`);
  pool?.on('error', warn);
  pool?.on('connect', (client) => client.on('error', warn));
}

/** Opens the service's DataSource and brings its schema up to date before anything else starts. */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DATA_SOURCE,
          useFactory: async () => {
            const dataSource = new DataSource({
              type: 'postgres',
              url: options.url,
              migrations: options.migrations,
              migrationsTableName: 'migrations',
              migrationsTransactionMode: 'each',
              synchronize: false,
              logging: false,
              applicationName: options.applicationName,
              extra: { max: options.poolSize, connectionTimeoutMillis: 5000 },
            });
            await dataSource.initialize();
            survivePoolErrors(dataSource);
            await dataSource.runMigrations({ transaction: 'each' });
            return dataSource;
          },
        },
        poolMetricsProvider(DATA_SOURCE),
        ...(options.watchSlots ? [slotMetricsProvider(DATA_SOURCE)] : []),
      ],
      exports: [DATA_SOURCE],
    };
  }

  async onApplicationShutdown() {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
