import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, MigrationInterface } from 'typeorm';
import { poolMetricsProvider } from './pool-metrics';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

export interface DatabaseOptions {
  url: string;
  /** The service's migrations, oldest first; they run at start inside one transaction each. */
  migrations: (new () => MigrationInterface)[];
  /** Upper bound on connections: a service must not be able to exhaust the shared server's max_connections. */
  poolSize: number;
  /** Name shown in pg_stat_activity, so a lock or a slow query points at its service. */
  applicationName: string;
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
            await dataSource.runMigrations({ transaction: 'each' });
            return dataSource;
          },
        },
        poolMetricsProvider(DATA_SOURCE),
      ],
      exports: [DATA_SOURCE],
    };
  }

  async onApplicationShutdown() {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
