import type { OutboxSource } from '@faultline/outbox';

/** What one relay streams from and to, and its bounds. */
export interface OutboxRelaySettings {
  source: OutboxSource;
  /** Default `outbox_relay_<source>`. */
  slot?: string;
  /** Every event to this topic instead of its type's (RELAY_TOPIC: the bench's second relay). */
  topic?: string;
  databaseUrl: string;
  brokers: string[];
  /** Received-but-unpublished events above which the stream is paused (memory bound while Kafka is slow). */
  maxBufferedEvents: number;
  /** Most events per Kafka batch. */
  maxBatchEvents: number;
  /** Ceiling of the back-off between sessions. */
  restartBackoffMaxMs: number;
  /** How often replication_slot_lag_bytes is sampled. */
  slotLagIntervalMs: number;
  /** Least time between two reports of the confirmed position while events flow (0: after every batch). */
  ackIntervalMs: number;
}
