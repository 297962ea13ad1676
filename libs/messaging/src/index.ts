export { createKafka, kafkaProbe, type KafkaClientOptions } from './kafka-client';
export { buildEventMessage, headersToStrings, type BuildMessageOptions, type EventMessage } from './event-message';
export { createEventProducer, type EventProducer, type EventProducerOptions } from './event-producer';
export { APPLIED_UNTIL_TABLE, appliedUntilMigrationSql, readAppliedUntil, saveAppliedMarks } from './applied-until';
export { INBOX_TABLE, inboxMigrationSql, recordInInbox } from './inbox';
export {
  EventConsumer,
  createEventConsumer,
  throwawayGroupId,
  type AppliedMark,
  type EventConsumerOptions,
  type EventHandler,
  type HandleContext,
  type HandleOutcome,
} from './event-consumer';
export { consumerMetrics, type ConsumerMetrics, type ConsumerOutcome } from './consumer-metrics';
export { buildDlqMessage, parseDlqError, type DlqError } from './dead-letter';
export {
  groupCommitted,
  readTopics,
  topicEnds,
  type TopicPositions,
  type TopicReadOptions,
  type TopicRecord,
} from './topic-reader';
export {
  dlqEntryOf,
  listDlq,
  parseDlqId,
  replayDlq,
  replayMessage,
  type DlqEntry,
  type ReplayResult,
} from './dlq-tools';
export { ConsumerLifecycle, type ConsumerSpec } from './consumer-lifecycle';
