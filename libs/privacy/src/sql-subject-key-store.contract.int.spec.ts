import { describeOnEveryBackend } from '#lgsp/storage/testing';
import { describeSubjectKeyProviderContract } from './contract/subject-key-provider-contract.js';
import { SqlSubjectKeyStore } from './index.js';

describeOnEveryBackend(describeSubjectKeyProviderContract, (db) => SqlSubjectKeyStore.open(db));
