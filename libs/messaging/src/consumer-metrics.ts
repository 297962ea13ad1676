import { Counter, type Registry } from 'prom-client';

export type ConsumerOutcome = 'processed' | 'duplicate' | 'ignored' | 'retried' | 'dead_lettered';

/** Consumer metrics; labels are bounded (consumer names, topics, event types and outcomes are all fixed sets). */
export interface ConsumerMetrics {
  events: Counter<'consumer' | 'topic' | 'type' | 'outcome'>;
  dlq: Counter<'topic'>;
  duplicates: Counter<'consumer'>;
  commits: Counter<'consumer'>;
}

/** One set per registry: several consumers in one process share the metrics and differ by label. */
export function consumerMetrics(registry: Registry): ConsumerMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    events: counter('consumer_events_total', 'Events handled by a consumer, by outcome', [
      'consumer',
      'topic',
      'type',
      'outcome',
    ]),
    dlq: counter('consumer_dlq_messages_total', 'Messages a consumer sent to a dead-letter topic', ['topic']),
    duplicates: counter('inbox_duplicates_total', 'Redelivered events the inbox recognised and skipped', ['consumer']),
    commits: counter(
      'consumer_offset_commits_total',
      'Offset commit requests a consumer sent to Kafka (each carries every partition handled since the last)',
      ['consumer'],
    ),
  };
}
