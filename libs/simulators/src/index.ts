export {
  CivilRegistrySimulator,
  CERTIFICATE_PDF_BASE64,
  REGISTRY_STATUS,
  RESULT_BATCH_MAX,
} from './civil-registry/civil-registry.js';
export { InterlinkedServicesSimulator, type InterlinkedDossier } from './interlinked/dvclt.js';
export type { Registration, RegistrationKind, RegistryConfig } from './civil-registry/civil-registry.js';
export { formatVn, parseVn, type DateFormat } from '#lgsp/connectors';
export {
  FaultInjector,
  mulberry32,
  parseFaultConfig,
  type FaultConfig,
  type FaultDecision,
} from './faults.js';
export { Simulator, type CallCounts, type Started } from './http.js';
export { OneStopShopSimulator, OSS_CHANNEL, OSS_STATUS, ossStatus } from './one-stop-shop/one-stop-shop.js';
export { DIGEST_FIELDS, messageDigest, paymentDigest, signMessage, verifyMessage } from '#lgsp/connectors';
export type { DigestMessage } from '#lgsp/connectors';
export { PaymentPlatformSimulator, TRANSACTION_STATUS } from './payments/payment-platform.js';
export type { PaymentConfig, SentCallback } from './payments/payment-platform.js';
export { DEFAULT_DIALECT, MAX_PROGRESS_PER_CALL, NationalPortalSimulator } from './portal/national-portal.js';
export type {
  OnlineSubmission,
  PortalDialect,
  PortalDossier,
  PortalProgress,
} from './portal/national-portal.js';
export { DEFAULT_AGENCIES, DEFAULT_PROCEDURES } from './portal/procedure-catalogue.js';
export type { CatalogueAgency, CatalogueProcedure } from './portal/procedure-catalogue.js';
export { startSimulators, type Listen, type SimulatorSuite, type SimulatorSuiteOptions } from './suite.js';
