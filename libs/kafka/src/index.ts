export * from './topics.js';
export * from './errors.js';
export * from './cloudevents-kafka.js';
export * from './client.js';
export * from './dead-letter.js';
export * from './relay.js';
export * from './ingest-consumer.js';
export * from './replay-topic.js';
export { KafkaJsClient, type KafkaClientOptions } from './external/kafkajs-client.js';
