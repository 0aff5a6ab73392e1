import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { ConfigError, loadSubscriberConfig } from './config.js';
import { kafkaTransport, ProvinceSubscriberModule } from './province-subscriber.module.js';

/**
 * An example provincial consumer: reads `lgsp.events.province.<PROVINCE>` and keeps a small view of
 * the province's dossiers in `<DATA_DIR>/view.json`. See ../README.md.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadSubscriberConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`province-subscriber: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    ProvinceSubscriberModule.forRoot(config),
    kafkaTransport(config),
  );
  app.enableShutdownHooks();
  await app.listen();
  new Logger('ProvinceSubscriber').log(
    `consuming ${config.topic} from ${config.brokers.join(',')} as group ${config.groupId}`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `province-subscriber: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
