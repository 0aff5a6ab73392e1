import type { Logger } from './logger.js';

type NestLogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/**
 * Routes NestJS's own log lines into the structured logger, so every line the hub writes is JSON.
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
        this.logger.info(fields, text);
    }
  }
}
