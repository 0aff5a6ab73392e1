import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { DomainError } from '#lgsp/contracts';
import type { EventStore, ReadAllOptions } from '#lgsp/event-store';
import { IngestService } from '#lgsp/ingest';
import { dossierStatusLabel, type DossierViewRepository } from '#lgsp/projections';
import { inReadScope, readScope, readScopeCovers, type Client } from '#lgsp/security';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IntQuery, MAX_PAGE, ListQuery, ResumeAfter } from './query.js';
import { Caller } from './roles.js';
import { CONNECTORS, DOSSIER_VIEWS, EVENT_STORE, WEBHOOKS } from './tokens.js';
import type { WebhookService } from '#lgsp/webhooks';
import type { RunningConnectors } from '../connectors/connectors.js';
import { dossierSync, type DossierSyncEntry } from './dossier-sync.js';
import { toWire, type WireEvent } from './wire.js';

const POSITION = Number.MAX_SAFE_INTEGER;

@Controller('v1')
export class ReadsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(DOSSIER_VIEWS) private readonly dossiers: DossierViewRepository,
    @Inject(CONNECTORS) private readonly connectors: RunningConnectors,
    @Inject(WEBHOOKS) private readonly webhooks: WebhookService | undefined,
  ) {}

  /** A stream's events in order. Streams outside the caller's scope look like missing ones. */
  @Get('streams/:stream')
  async stream(
    @Caller() client: Client,
    @Param('stream') stream: string,
    @Query('from', new IntQuery(1, 1, POSITION)) from: number,
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
  ): Promise<{ stream: string; version: number; events: WireEvent[] }> {
    const scope = readScope(client);
    // Read at the stream's head: who owns it now (a transfer hands it to another commune).
    const { version, owner } = await this.ingest.owners.refresh(stream);
    if (owner === undefined || !readScopeCovers(scope, owner)) {
      throw new DomainError('not-found', 'the stream does not exist or is outside your scope');
    }
    const events = await this.store.readStream(stream, { fromVersion: from, limit });
    return { stream, version, events: events.map(toWire) };
  }

  /** The global log after a position, scoped to the caller; `Accept: text/event-stream` tails it live. */
  @Get('events')
  async events(
    @Caller() client: Client,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @ResumeAfter(new IntQuery(0, 0, POSITION, 'after')) after: number,
    @Query('limit', new IntQuery(100, 1, MAX_PAGE)) limit: number,
    @Query('type', new ListQuery()) types: string[] | undefined,
    @Query('province', new ListQuery(/^[0-9]{2}$/)) provinces: string[] | undefined,
  ): Promise<void> {
    const filter = this.filterFor(client, types, provinces);
    if ((req.headers.accept ?? '').includes('text/event-stream')) {
      await this.tail(req, reply, after, filter);
      return;
    }
    const events = await this.store.readAll({ ...filter, after, limit });
    const head = await this.store.head();
    const last = events[events.length - 1];
    void reply.header('content-type', 'application/json').send({
      events: events.map(toWire),
      next: last ? last.position : after,
      head: head.position,
    });
  }

  /**
   * The dossier's view, its status named in Vietnamese and English (`statusLabel`), and `sync`: its
   * state at each external system and visible webhook endpoint.
   */
  @Get('dossiers/:dossierCode')
  async dossier(
    @Caller() client: Client,
    @Param('dossierCode') code: string,
  ): Promise<object & { sync: DossierSyncEntry[] }> {
    const scope = readScope(client);
    const view = await this.dossiers.get(code);
    if (!view || !inReadScope(scope, view.provinceCode, view.communeCode)) {
      throw new DomainError('not-found', 'the dossier is not known or is outside your scope');
    }
    const statusLabel = dossierStatusLabel(view.status);
    return {
      ...view,
      ...(statusLabel === undefined ? {} : { statusLabel }),
      sync: await dossierSync(client, code, this.connectors, this.webhooks),
    };
  }

  private filterFor(
    client: Client,
    types: string[] | undefined,
    provinces: string[] | undefined,
  ): Pick<ReadAllOptions, 'types' | 'provinceCodes' | 'communeCodes'> {
    const scope = readScope(client);
    const out: Pick<ReadAllOptions, 'types' | 'provinceCodes' | 'communeCodes'> = types ? { types } : {};
    if (scope.all) return provinces ? { ...out, provinceCodes: provinces } : out;
    const allowed = new Set([...scope.provinceCodes, ...(client.provinceCode ? [client.provinceCode] : [])]);
    const denied = (provinces ?? []).filter((p) => !allowed.has(p));
    if (denied.length > 0) {
      throw new DomainError('forbidden', `client ${client.name} may not read province ${denied.join(', ')}`, [
        { pointer: '/province', message: `outside the client's scope` },
      ]);
    }
    if (scope.communeCodes.length > 0) return { ...out, communeCodes: scope.communeCodes };
    return { ...out, provinceCodes: scope.provinceCodes };
  }

  /** Server-sent events: each event is sent with its position as the SSE id, so clients resume with Last-Event-ID. */
  private async tail(
    req: FastifyRequest,
    reply: FastifyReply,
    after: number,
    filter: Pick<ReadAllOptions, 'types' | 'provinceCodes' | 'communeCodes'>,
  ): Promise<void> {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // Sent now, not with the first event: a client waiting for headers would otherwise wait up to 15 s.
    raw.flushHeaders();
    let position = after;
    let closed = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.store.onAppended(() => wake?.());
    req.raw.on('close', () => {
      closed = true;
      wake?.();
    });
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000);
    try {
      while (!closed) {
        // The head is read first: every event up to it is covered by the filtered read that follows,
        // so the position may jump past events the filter skips without missing a later one.
        const head = await this.store.head();
        const events = await this.store.readAll({ ...filter, after: position, limit: 500 });
        for (const e of events) {
          raw.write(`id: ${e.position}\nevent: ${e.type}\ndata: ${JSON.stringify(toWire(e))}\n\n`);
          position = e.position;
        }
        if (events.length === 500) continue;
        position = Math.max(position, head.position);
        if (closed) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 5_000);
        });
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      raw.end();
    }
  }
}
