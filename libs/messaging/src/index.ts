export { createKafka, kafkaProbe, type KafkaClientOptions } from './kafka-client';
