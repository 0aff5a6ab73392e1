import { ValidationPipe } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';

/**
 * The bodies' pipe: each route's DTO (class-validator), unknown members refused; a bad body is a 422
 * `invalid` problem with a pointer per member. Query parameters have pipes of their own (query.ts).
 */
export const bodyValidationPipe = (): ValidationPipe =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) =>
      new DomainError(
        'invalid',
        'the request body is not valid',
        errors.flatMap((e) =>
          Object.values(e.constraints ?? { invalid: 'is not valid' }).map((message) => ({
            pointer: `/${e.property}`,
            message,
          })),
        ),
      ),
  });
