import { Admin, Kafka, logLevel } from 'kafkajs';
import type { DependencyProbe } from '@faultline/observability';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop';

// Before any client exists: every kafkajs client of a process that uses this library gets the fix.
fixKafkajsIdleLoop();

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  /** Connection timeout; Kafka runs on the same host or in-cluster, so a slow connect means it is down. */
  connectionTimeoutMs?: number;
}

export function createKafka({ clientId, brokers, connectionTimeoutMs = 1000 }: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: connectionTimeoutMs,
    // kafkajs logs every reconnect attempt at ERROR; a broker outage is an experiment here, visible in metrics.
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

/** Readiness of Kafka: a real metadata request (describeCluster) through an admin client kept for the probe. */
export function kafkaProbe(options: KafkaClientOptions, name = 'kafka'): DependencyProbe {
  const kafka = createKafka({ ...options, clientId: `${options.clientId}-readiness` });
  let admin: Admin | undefined;
  return {
    name,
    check: async () => {
      try {
        if (!admin) {
          admin = kafka.admin({ retry: { retries: 0 } });
          await admin.connect();
        }
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no brokers in cluster metadata');
      } catch (error) {
        // Start from a fresh connection next time rather than trusting a half-broken one.
        const stale = admin;
        admin = undefined;
        await stale?.disconnect().catch(() => undefined);
        throw error;
      }
    },
    close: async () => {
      await admin?.disconnect();
    },
  };
}
