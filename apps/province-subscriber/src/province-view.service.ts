import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { readProvinceEvent, UnreadableMessageError } from './cloudevent-message.js';
import type { SubscriberConfig } from './config.js';
import type { ProvinceView, ProvinceViewJson } from './province-view.js';
import { ViewFile } from './view-file.js';

/** Injection token of the {@link SubscriberConfig}. */
export const SUBSCRIBER_CONFIG = Symbol('SUBSCRIBER_CONFIG');

/** Where a message was read: for the log. */
export interface MessageOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/** Keeps the province's view: applies each message of the topic and saves the view before returning. */
@Injectable()
export class ProvinceViewService implements OnModuleInit {
  private readonly logger = new Logger('ProvinceView');
  private readonly file: ViewFile;
  private view: ProvinceView | undefined;

  constructor(@Inject(SUBSCRIBER_CONFIG) private readonly config: SubscriberConfig) {
    this.file = new ViewFile(join(config.dataDir, 'view.json'));
  }

  async onModuleInit(): Promise<void> {
    this.view = await this.file.load(this.config.province);
    this.logger.log(`view ${this.file.path}: ${this.view.dossierCount} dossiers`);
  }

  /** The path of `view.json`. */
  get viewPath(): string {
    return this.file.path;
  }

  /** The view as it is now, in the form of `view.json`. */
  snapshot(): ProvinceViewJson {
    return this.loaded().toJSON();
  }

  /**
   * Applies one message (headers as the Kafka transport hands them over, value as bytes) and saves the
   * view. Resolves once the view is on disk, so the offset is committed only after that: a crash
   * before it redelivers the message, and the duplicate rule drops what was applied already.
   * A message that is not a province event is logged, counted and skipped, so it cannot block its
   * partition. @throws when the view cannot be saved (the message is then delivered again).
   */
  async handle(
    message: { headers?: Readonly<Record<string, unknown>>; value: unknown },
    origin: MessageOrigin,
  ): Promise<void> {
    const view = this.loaded();
    const where = `topic=${origin.topic} partition=${origin.partition} offset=${origin.offset}`;
    let event;
    try {
      event = readProvinceEvent(message);
    } catch (e) {
      if (!(e instanceof UnreadableMessageError)) throw e;
      view.reject();
      await this.file.save(view);
      this.logger.warn(`skipped unreadable message ${where}: ${e.message}`);
      return;
    }
    const result = view.apply(event);
    await this.file.save(view);
    const about = `dossier=${event.dossierCode} position=${event.position} type=${event.type}`;
    if (result.outcome === 'duplicate') {
      this.logger.log(`dropped duplicate ${about} source=${event.source} id=${event.id}`);
      return;
    }
    const { status, eventCount, streamVersion } = result.dossier;
    this.logger.log(
      `applied ${about} version=${streamVersion} status=${status ?? '-'} events=${eventCount} ${where}`,
    );
  }

  private loaded(): ProvinceView {
    if (this.view === undefined) throw new Error('the view is not loaded yet');
    return this.view;
  }
}
