// Loaded by main.ts before anything else: the instrumentations must patch http, grpc-js, pg, ioredis and kafkajs
// before the app requires them (tsc's CommonJS output keeps import order).
import { startTracing } from '@faultline/tracing';

startTracing('gateway');
