import type { EventStore, StoredEvent } from '#lgsp/event-store';
import { SqliteEventStore } from '#lgsp/event-store/sqlite';
import type { HubConfig } from '#lgsp/hub-config';
import type { RootLogger as Logger } from '#lgsp/observability';
import {
  FileKeyWrapper,
  PersonalDataCodec,
  SqlSubjectKeyStore,
  type SubjectKeyProvider,
} from '#lgsp/privacy';
import type {
  ApplyBatchOptions,
  ApplyBatchResult,
  DossierView,
  DossierViewRepository,
} from '#lgsp/projections';
import type { SqlDatabase } from '#lgsp/storage';

/** The personal-data parts of the hub: the subject keys and the codec that seals and opens values. */
export interface PrivacyParts {
  keys: SubjectKeyProvider;
  codec: PersonalDataCodec;
}

/** Opens the subject keys in the hub's store (wrapped by the master key when one is configured). */
export async function privacyParts(
  config: HubConfig,
  database: SqlDatabase,
  logger: Logger,
  /** The events as stored: on the embedded store its group commits write the keys their events use. */
  stored?: EventStore,
): Promise<PrivacyParts | undefined> {
  const settings = config.privacy;
  if (!settings.enabled) {
    logger.warn('personal data is stored in clear (privacy.enabled is false): erasure is not possible');
    return undefined;
  }
  const wrapper = settings.masterKeyFile ? FileKeyWrapper.fromFile(settings.masterKeyFile) : undefined;
  const keys = await SqlSubjectKeyStore.open(database, {
    cacheMs: settings.keyCacheMs,
    // The events that use new keys are committed next on the same file, with an fsync that covers both.
    durableWithNextCommit: config.store === 'sqlite',
    // The embedded store has one process: what it knows of its keys is the truth.
    exclusive: config.store === 'sqlite',
    ...(wrapper ? { wrapper } : {}),
  });
  // On the embedded store the keys new events need are written in the events' own transaction.
  if (config.store === 'sqlite' && stored instanceof SqliteEventStore)
    stored.addCommitCompanion(keys.commitCompanion(stored.database));
  logger.info(
    { masterKey: wrapper ? wrapper.id : 'none', keyCacheMs: settings.keyCacheMs },
    'personal data sealed per data subject',
  );
  return { keys, codec: new PersonalDataCodec(keys) };
}

/**
 * The dossier views as readers see them: the projection stores the sealed values of the events it
 * folds, and reads open them (`[erased]` once the subject's key is destroyed).
 */
export class RevealingDossierViews implements DossierViewRepository {
  constructor(
    private readonly inner: DossierViewRepository,
    private readonly codec: PersonalDataCodec,
  ) {}

  async get(dossierCode: string): Promise<DossierView | undefined> {
    const view = await this.inner.get(dossierCode);
    return view === undefined ? undefined : this.codec.revealOne(view);
  }

  applyBatch(events: readonly StoredEvent[], options?: ApplyBatchOptions): Promise<ApplyBatchResult> {
    return this.inner.applyBatch(events, options);
  }

  checkpoint(): Promise<number> {
    return this.inner.checkpoint();
  }
}
