import { pino, type DestinationStream, type LevelWithSilent, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { maskText, redact } from './redact.js';

/** How the log is written: one JSON object per line, or readable lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** The `log.format` setting: `auto` is `pretty` on a terminal and `json` otherwise. */
export type LogFormatSetting = LogFormat | 'auto';

/**
 * The format `log.format` asks for, given whether stdout is a terminal (`process.stdout.isTTY`):
 * `auto` writes readable lines to a person and JSON to a pipe, a file or a log collector.
 */
export function resolveLogFormat(setting: LogFormatSetting, isTTY: boolean): LogFormat {
  if (setting === 'auto') return isTTY ? 'pretty' : 'json';
  return setting;
}

/**
 * The one logger type of the libraries: fields, then a message. A pino logger from
 * {@link createLogger} is one; a test passes {@link silentLogger} or a recorder built on it.
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Logs nothing. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The hub's root logger, as {@link createLogger} makes it: a {@link Logger} that also makes children
 * (`child({ component })`), takes a message alone, and flushes.
 */
export type RootLogger = PinoLogger;

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
  /**
   * `pretty`: readable lines (time, level, component, message, then the fields), through pino-pretty;
   * the same masking applies. @defaultValue "json"
   */
  format?: LogFormat;
  /** Colours in `pretty` lines. @defaultValue true */
  colorize?: boolean;
}

/** Structured JSON logs (one object per line) with personal data and secrets masked (see {@link redact}). */
export function createLogger(options: LoggerOptions = {}): RootLogger {
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
    options.format === 'pretty'
      ? prettyStream(options)
      : (options.destination ?? pino.destination({ dest: 1, sync: options.sync ?? false })),
  );
}

/** Readable lines: `[08:15:02.113] INFO: connector.portal: portal connector enabled {"target":"portal",…}`. */
function prettyStream(options: LoggerOptions): DestinationStream {
  return pretty({
    colorize: options.colorize ?? true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    singleLine: true,
    sync: options.sync ?? false,
    destination: options.destination ?? 1,
  });
}
