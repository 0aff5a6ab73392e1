// Three tiers, selected by file suffix: *.unit.spec.ts, *.int.spec.ts, *.e2e.spec.ts; and the fault
// suite, *.faults.spec.ts.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2024',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'es6' },
  },
];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^#lgsp/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^#lgsp/([a-z-]+)/([a-z-]+)$': '<rootDir>/libs/$1/src/$2/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};
// The integration and e2e tiers share one Kafka broker per run (test/support/kafka.ts); a project's
// global setup runs only when a test of that project is selected, so the unit tier never starts it.
const withKafka = {
  globalSetup: '<rootDir>/test/support/jest-global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.mjs',
};
export default {
  // Integration and end-to-end tests start brokers and hub processes; unit tests finish in milliseconds.
  testTimeout: 120_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,test}/**/*.unit.spec.ts'] },
    {
      ...common,
      ...withKafka,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int.spec.ts'],
    },
    {
      ...common,
      ...withKafka,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e.spec.ts'],
    },
    // The fault suite (`npm run test:faults`): hub processes killed, stores and brokers failed under
    // load, a Kafka cluster's leader killed; each fault starts what it needs (its own brokers, cluster
    // and databases), so no global setup.
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.faults.spec.ts'] },
  ],
};
