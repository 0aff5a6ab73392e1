import { Module, type DynamicModule } from '@nestjs/common';
import { Transport, type KafkaOptions } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';
import type { SubscriberConfig } from './config.js';
import { provinceEventsController } from './province-events.controller.js';
import { ProvinceViewService, SUBSCRIBER_CONFIG } from './province-view.service.js';

@Module({})
export class ProvinceSubscriberModule {
  static forRoot(config: SubscriberConfig): DynamicModule {
    return {
      module: ProvinceSubscriberModule,
      controllers: [provinceEventsController(config.topic)],
      providers: [{ provide: SUBSCRIBER_CONFIG, useValue: config }, ProvinceViewService],
    };
  }
}

/** The Kafka transport of the microservice. */
export function kafkaTransport(config: SubscriberConfig): KafkaOptions {
  return {
    transport: Transport.KAFKA,
    options: {
      client: {
        clientId: config.clientId,
        brokers: config.brokers,
        ssl: config.ssl,
        ...(config.sasl !== undefined ? { sasl: config.sasl } : {}),
      },
      consumer: { groupId: config.groupId },
      // Nest appends "-server" to the client and group ids unless told otherwise; the group id is
      // part of the ACLs the hub's operators grant, so it is used as configured.
      postfixId: '',
      // A new group (a new view) reads the topic from its first retained event.
      subscribe: { fromBeginning: true },
      // The transport also opens a producer (for replies, unused here): keep it on kafkajs's default
      // partitioner without the warning kafkajs 2 prints otherwise.
      producer: { createPartitioner: Partitioners.DefaultPartitioner },
      // The value stays bytes: the handler parses the JSON itself, so a bad value is reported, not
      // passed on as a string.
      parser: { keepBinary: true },
    },
  };
}
