import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import type { FastifyReply } from 'fastify';
import { PAYMENT_CALLBACK_PATH } from '../connectors/embedded-simulators.js';
import { negotiateLanguage } from './language.js';
import { localizeProblem, problem, problemHeaders } from './problem.js';
import { CONNECTORS } from './tokens.js';
import type { RunningConnectors } from '../connectors/connectors.js';

const PROBLEM_CODE = { 400: 'malformed', 401: 'unauthenticated', 404: 'not-found' } as const;

/**
 * Where the payment platform posts its results. No bearer token: the platform signs each callback
 * with `MaXacThuc` (SHA-256 over the fields and the shared secret), which the handler verifies before
 * anything is appended. 200 `{MaLoi: "00", MoTaLoi, MaDoiTac, MaThamChieu, ThoiGianGD, MaXacThuc}`
 * for an accepted or repeated result (a duplicate appends nothing); refusals are RFC 9457 problems
 * that also carry the platform's own signed answer (401 / 02 for a forged digest, 400 / 99 for a
 * malformed body, 404 / 99 for an unknown dossier).
 * A store that cannot take the event answers 503, so the platform sends the callback again.
 */
@Controller(PAYMENT_CALLBACK_PATH.slice(1))
export class CallbacksController {
  constructor(@Inject(CONNECTORS) private readonly connectors: RunningConnectors) {}

  @Post()
  async payment(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    const handler = this.connectors.paymentCallbacks;
    if (handler === undefined) throw new DomainError('not-found', 'the payment connector is not enabled');
    const outcome = await handler.handle(body);
    const { status, body: answer } = handler.httpResponse(outcome, body);
    if (status === 200) {
      await reply.status(200).send(answer);
      return;
    }
    const detail =
      outcome.outcome === 'invalid'
        ? `${outcome.field}: ${outcome.message}`
        : outcome.outcome === 'forged'
          ? 'MaXacThuc does not verify: the callback is not signed with the shared secret'
          : `no dossier for the payment reference ${outcome.outcome === 'unknown-dossier' ? outcome.ref : ''}`;
    const errors =
      outcome.outcome === 'invalid'
        ? [{ pointer: `/${outcome.field}`, message: outcome.message }]
        : outcome.outcome === 'forged'
          ? [{ pointer: '/MaXacThuc', message: 'does not verify' }]
          : [{ pointer: '/MaThamChieu', message: 'no such dossier' }];
    const language = negotiateLanguage(reply.request.headers['accept-language']);
    await reply
      .status(status)
      .headers(problemHeaders(language))
      .send({ ...localizeProblem(problem(PROBLEM_CODE[status], detail, errors), language), ...answer });
  }
}
