import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { maskText, redact } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where JSON lines go; stdout when omitted. */
  destination?: DestinationStream;
  name?: string;
  /**
   * Write each line to stdout before the logging call returns, for a thread that may end before an
   * asynchronous write would; ignored with `destination`. @defaultValue false
   */
  sync?: boolean;
}

/** Structured JSON logs (one object per line) with personal data and secrets masked (see {@link redact}). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'lgsp-hub',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskText(a) : a));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: options.sync ?? false }),
  );
}
