import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli.js';
import type { CliIo } from './io.js';

// The first Ctrl-C stops what the command follows (a tail, a run's progress); a second one quits.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

const io: CliIo = {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  // Questions go to stderr, so stdout stays the command's result (and --json parseable).
  ...(process.stdin.isTTY && process.stderr.isTTY
    ? {
        ask: async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question, { signal: interrupt.signal });
          } finally {
            rl.close();
          }
        },
      }
    : {}),
  interrupt: interrupt.signal,
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFile: (path, text) => writeFileSync(path, text),
};

const code = await runCli(process.argv.slice(2), io);
// Exit only once stdout and stderr are flushed: a large --json answer to a pipe is written in
// several chunks, and process.exit would cut it short.
await Promise.all(
  [process.stdout, process.stderr].map((s) => new Promise<void>((res) => s.write('', () => res()))),
);
process.exit(code);
