import { LabLayout } from '../layout/lab-layout';
import { InfraComponent } from './infra-component';
import { createKafka } from './kafka';
import { createPostgres } from './postgres';
import { createPrometheus, ScrapeTarget } from './prometheus';
import { createRedis } from './redis';

export type { InfraComponent, ComponentStatus, StartResult } from './infra-component';
export { createKafka, kafkaBrokers, kafkaLibDir, KAFKA_VERSION, LAB_TOPICS } from './kafka';
export { createPostgres, findPostgresBinDir, LAB_DATABASES, postgresDataDir, postgresUrl } from './postgres';
export { createPrometheus, findPrometheus, prometheusConfig, prometheusUrl } from './prometheus';
export type { ScrapeTarget } from './prometheus';
export { createRedis, redisUrl } from './redis';

/**
 * The lab's infrastructure in start order (stop in reverse). Nothing depends on another at start, but Kafka is the
 * slowest and Postgres the most likely to fail on a fresh machine, so the quick failure comes first.
 */
export function createInfra(
  layout: LabLayout,
  prometheusTargets: ScrapeTarget[] = [],
  env: NodeJS.ProcessEnv = process.env,
): InfraComponent[] {
  return [
    createPostgres(layout, env),
    createRedis(layout, env),
    createKafka(layout, env),
    createPrometheus(layout, prometheusTargets, env),
  ];
}
