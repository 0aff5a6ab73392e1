// The projection worker, run from its TypeScript source (see test/support/ts-hooks.mjs).
import '../../../../../test/support/ts-hooks.mjs';

await import('../projection-worker.ts');
