import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/libs/*/src/*', '../../libs/**', '../../../libs/**'],
              message: 'Import a lib through its public entry: #lgsp/<lib>.',
            },
          ],
        },
      ],
    },
  },
  {
    // The core knows no infrastructure: the event-store port and the contracts import no database,
    // broker or framework.
    files: [
      'libs/event-store/src/port.ts',
      'libs/event-store/src/errors.ts',
      'libs/contracts/src/**/*.ts',
      'libs/projections/src/dossier-view.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'pg', 'kafkajs', 'node:sqlite', 'fastify'],
              message: 'The core imports no infrastructure.',
            },
          ],
        },
      ],
    },
  },
);
