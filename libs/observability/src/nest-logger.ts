import type { Logger } from './logger.js';

type NestLogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/**
 * NestJS's start-up chatter (a line per module, per controller and per route, and "Nest application
 * successfully started"): at debug, so that `info` shows what an operator needs.
 */
const START_UP_CONTEXTS: ReadonlySet<string> = new Set([
  'RouterExplorer',
  'RoutesResolver',
  'InstanceLoader',
  'NestFactory',
  'NestApplication',
]);

/**
 * Routes NestJS's own log lines into the structured logger, so every line the hub writes has its
 * format; its start-up lines (route mappings and the like) at debug.
 * Implements NestJS's LoggerService shape without importing NestJS.
 */
export class NestLoggerAdapter {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: NestLogLevel, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const fields = context ? { context } : {};
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    switch (level) {
      case 'error':
      case 'fatal':
        this.logger.error({ ...fields, detail: rest.length > 1 ? rest[0] : undefined }, text);
        break;
      case 'warn':
        this.logger.warn(fields, text);
        break;
      case 'debug':
      case 'verbose':
        this.logger.debug(fields, text);
        break;
      default:
        if (context !== undefined && START_UP_CONTEXTS.has(context)) this.logger.debug(fields, text);
        else this.logger.info(fields, text);
    }
  }
}
