import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './scripts/lint/boundaries.mjs';

// What a port (the event-store port, the SQL storage port) may not import: a driver, broker,
// framework or I/O module. Each block adds its own adapters' folders.
const PORT_FORBIDDEN = [
  '@nestjs/*',
  '@kurrent/*',
  'pg',
  'pg-*',
  'kafkajs',
  'node:sqlite',
  'fastify',
  '@fastify/*',
  'fs',
  'fs/*',
  'node:fs',
  'node:fs/*',
  'node:net',
  'node:http',
  'node:child_process',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'data/**',
      'coverage/**',
      '.tmp/**',
      'libs/contracts/src/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Libraries only through their entries (#lgsp/<lib>, #lgsp/<lib>/<entry>); no app imports another
    // app's source (scripts/lint/boundaries.mjs, proved by test/lint/boundaries.unit.spec.ts).
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { lgsp: boundaries },
    rules: {
      'lgsp/boundaries': 'error',
    },
  },
  {
    // The SQL storage port (libs/storage/src/*.ts, outside its sqlite/ and postgres/ drivers) imports
    // no driver, framework or I/O module: a store is written against the port and runs on either.
    files: ['libs/storage/src/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...PORT_FORBIDDEN, './sqlite/*', './postgres/*'],
              message: 'The storage port imports no infrastructure and no driver.',
            },
          ],
        },
      ],
    },
  },
  {
    // The core knows no infrastructure: the contracts import no database, broker or framework.
    files: ['libs/contracts/src/**/*.ts', 'libs/projections/src/dossier-view.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', '@kurrent/*', 'pg', 'kafkajs', 'node:sqlite', 'fastify'],
              message: 'The core imports no infrastructure.',
            },
          ],
        },
      ],
    },
  },
  {
    // Nor does the event-store port (`#lgsp/event-store`: everything in libs/event-store/src outside
    // the adapter folders): no driver, broker, framework or I/O module, and no adapter. Each adapter
    // has its own entry, so importing the port loads no driver.
    files: ['libs/event-store/src/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...PORT_FORBIDDEN,
                '#lgsp/event-store/*',
                './sqlite/*',
                './postgres/*',
                './kurrentdb/*',
                './contract/*',
              ],
              message: 'The event-store port imports no infrastructure and no adapter.',
            },
          ],
        },
      ],
    },
  },
);
