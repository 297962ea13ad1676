// Loaded by main.ts before anything else: the instrumentations must patch http, grpc-js, pg, ioredis and kafkajs
// before the app requires them (tsc's CommonJS output keeps import order). One app runs as one relay per source
// database; each names itself after its source (outbox-relay-orders, outbox-relay-inventory) so a trace shows which
// relay carried an event. The config is not loaded yet (tracing comes first), hence the direct read.
import { startTracing } from '@faultline/tracing';

const source = process.env['RELAY_SOURCE']?.trim();
startTracing(source ? `outbox-relay-${source}` : 'outbox-relay');
