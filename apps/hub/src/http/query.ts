import {
  createParamDecorator,
  type ArgumentMetadata,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import type { FastifyRequest } from 'fastify';
import { intParam, listParam } from './wire.js';

/*
 * Pipes of the query parameters, used as `@Query('<name>', pipe)`: each checks one parameter and
 * answers a bad one with 400 `malformed`, the parameter's pointer and what it must be. (The bodies
 * are DTOs checked by the global ValidationPipe; a query string has only strings, given once or
 * repeated, and its own messages.)
 */

/** The largest page a list or a read returns (`?limit=`). */
export const MAX_PAGE = 1000;

/** An integer from `min` to `max`; `fallback` when absent or empty. */
export class IntQuery implements PipeTransform<unknown, number> {
  constructor(
    private readonly fallback: number,
    private readonly min: number,
    private readonly max: number,
    /** For a custom decorator, which has no name of its own. */
    private readonly name?: string,
  ) {}

  transform(value: unknown, metadata: ArgumentMetadata): number {
    const name = this.name ?? metadata.data ?? 'query';
    return intParam({ [name]: value }, name, this.fallback, this.min, this.max);
  }
}

/** A comma-separated list (or the parameter repeated), each item matching `pattern`; absent or empty: undefined. */
export class ListQuery implements PipeTransform<unknown, string[] | undefined> {
  constructor(private readonly pattern?: RegExp) {}

  transform(value: unknown, metadata: ArgumentMetadata): string[] | undefined {
    const name = metadata.data ?? 'query';
    return listParam({ [name]: value }, name, this.pattern);
  }
}

/** A text given once that `accepts`; absent: undefined. */
export class OneQuery<T extends string = string> implements PipeTransform<unknown, T | undefined> {
  constructor(
    private readonly accepts: (value: string) => value is T,
    /** The problem's detail, and the parameter's own message. */
    private readonly detail: string,
    private readonly message: string,
  ) {}

  transform(value: unknown, metadata: ArgumentMetadata): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !this.accepts(value))
      throw new DomainError('malformed', this.detail, [
        { pointer: `/${metadata.data ?? ''}`, message: this.message },
      ]);
    return value;
  }
}

/** Text of up to `max` characters (any, when `max` is omitted), given once. */
export const text =
  (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): value is string =>
    value.length >= min && value.length <= max;

/**
 * Where a read of the log resumes: `?after=`, or else the `Last-Event-ID` header an EventSource sends
 * when it reconnects. Checked by the pipe given (as `after`).
 */
export const ResumeAfter = createParamDecorator((_data: unknown, ctx: ExecutionContext): unknown => {
  const req = ctx.switchToHttp().getRequest<FastifyRequest>();
  const lastEventId = req.headers['last-event-id'];
  return (
    (req.query as Record<string, unknown>).after ??
    (typeof lastEventId === 'string' ? lastEventId : undefined)
  );
});
