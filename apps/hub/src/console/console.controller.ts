import { dossierSync } from '../http/dossier-sync.js';
import {
  Body,
  Controller,
  Get,
  Inject,
  Optional,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { Mismatch, ReconciliationRun, ReconciliationService } from '#lgsp/reconciliation';
import { DomainError } from '#lgsp/contracts';
import type { EventStore } from '#lgsp/event-store';
import type { DossierViewRepository } from '#lgsp/projections';
import type { ReplayService } from '#lgsp/replay';
import { ClientService, type AuditLog, type Client } from '#lgsp/security';
import type { WebhookService } from '#lgsp/webhooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RunningConnectors } from '../connectors/connectors.js';
import { ParkedController } from '../http/parked.controller.js';
import {
  AUDIT_LOG,
  CONNECTORS,
  DOSSIER_VIEWS,
  EVENT_STORE,
  RECONCILIATION,
  REPLAY,
  SUBSCRIPTIONS,
  WEBHOOKS,
  type SubscriptionLags,
} from '../http/tokens.js';
import { toWire } from '../http/wire.js';
import {
  appendCookie,
  consoleAssets,
  consoleCookie,
  cookies,
  mayUseConsole,
  pageContext,
} from './console-http.js';
import { ConsoleFilter, CsrfRefused, LoginRequired } from './console.filter.js';
import type { Html } from './html.js';
import type { MessageKey } from './i18n.js';
import type { PageContext } from './layout.js';
import {
  attemptsPage,
  auditPage,
  clientsPage,
  dossierPage,
  loginPage,
  mismatchesPage,
  overviewPage,
  parkedPage,
  parkingHistoryPage,
  planPage,
  replayPage,
  replayStatus,
  runPage,
  runStatus,
  traceIdOf,
  webhooksPage,
  type DossierData,
  type SyncEntry,
} from './pages.js';
import {
  csrfMatches,
  CSRF_FIELD,
  LOGIN_CSRF_COOKIE,
  randomToken,
  SESSION_COOKIE,
  type ConsoleSessions,
} from './sessions.js';
import { ThroughputSampler } from './throughput.js';

/** The console's sessions (one store per hub process). */
export const CONSOLE_SESSIONS = Symbol('ConsoleSessions');

type Form = Record<string, string | undefined>;

const MAX_MISMATCH_PAGES = 20;

/** A form value: a string of 1–`max` characters, or a 422 naming the field. */
function field(form: Form, name: string, max = 200): string {
  const v = form[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new DomainError('invalid', `the form field ${name} is missing or too long`, [
      { pointer: `/${name}`, message: `must be 1 to ${max} characters` },
    ]);
  return v;
}

function optionalField(form: Form, name: string, max = 1000): string | undefined {
  const v = form[name];
  return v === undefined || v === '' ? undefined : field(form, name, max);
}

/**
 * The operators' web console at `/console`: server-rendered pages (htmx polls the live parts), over
 * the same services as the JSON API, with the same roles (admin or operator) and the same audit (every
 * POST of the console is recorded like a call of the operator API; the services record their own
 * actions as they do for the API).
 */
@Controller('console')
@UseFilters(ConsoleFilter)
export class ConsoleController implements OnModuleInit, OnModuleDestroy {
  private readonly assets = consoleAssets();
  private readonly throughput: ThroughputSampler;

  constructor(
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions,
    @Inject(ClientService) private readonly clients: ClientService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DOSSIER_VIEWS) private readonly dossiers: DossierViewRepository,
    @Inject(CONNECTORS) private readonly connectors: RunningConnectors,
    @Inject(SUBSCRIPTIONS) private readonly subscriptions: SubscriptionLags,
    @Inject(WEBHOOKS) private readonly webhooks: WebhookService | undefined,
    @Inject(ParkedController) private readonly parked: ParkedController,
    @Optional() @Inject(RECONCILIATION) private readonly reconciliation?: ReconciliationService,
    @Optional() @Inject(REPLAY) private readonly replay?: ReplayService,
    @Optional() @Inject(AUDIT_LOG) private readonly audit?: AuditLog,
  ) {
    this.throughput = new ThroughputSampler(async () => (await store.head()).position);
  }

  onModuleInit(): void {
    this.throughput.start();
  }

  onModuleDestroy(): void {
    this.throughput.stop();
  }

  @Get('assets/htmx.min.js')
  htmx(@Res() reply: FastifyReply): void {
    void reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(this.assets.htmx);
  }

  @Get('assets/console.css')
  css(@Res() reply: FastifyReply): void {
    void reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(this.assets.css);
  }

  @Get('login')
  loginForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    if (req.consoleSession) return redirect(reply, '/console');
    this.sendLogin(req, reply, 200);
  }

  @Post('login')
  async login(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: Form = {},
  ): Promise<void> {
    const ctx = this.context(req, reply);
    if (!csrfMatches(cookies(req)[LOGIN_CSRF_COOKIE] ?? '', body[CSRF_FIELD])) throw new CsrfRefused();
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    let client: Client | undefined;
    try {
      client = token.length > 0 && token.length <= 4096 ? await this.clients.authenticate(token) : undefined;
    } catch {
      client = undefined;
    }
    if (!client) return this.sendLogin(req, reply, 401, ctx.t('login.invalid'));
    if (!mayUseConsole(client)) {
      req.client = client;
      return this.sendLogin(req, reply, 403, ctx.t('login.refused'));
    }
    req.client = client;
    const session = this.sessions.create(token);
    appendCookie(
      reply,
      // The server ends the session when idle; the browser drops the cookie when it closes.
      consoleCookie(req, SESSION_COOKIE, session.id, {}),
    );
    appendCookie(
      reply,
      consoleCookie(req, LOGIN_CSRF_COOKIE, '', { path: '/console/login', maxAgeSeconds: 0 }),
    );
    redirect(reply, '/console');
  }

  @Post('logout')
  logout(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: Form = {}): void {
    this.formCaller(req, body);
    const id = cookies(req)[SESSION_COOKIE];
    if (id) this.sessions.destroy(id);
    appendCookie(reply, consoleCookie(req, SESSION_COOKIE, '', { maxAgeSeconds: 0 }));
    redirect(reply, '/console/login');
  }

  @Get()
  async overview(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const caller = this.caller(req);
    const ctx = this.context(req, reply);
    await this.throughput.sample();
    const [lags, webhooks, parked, latest] = await Promise.all([
      this.subscriptions.lag(),
      this.webhooks ? this.webhooks.list(caller, { limit: 100 }).then((w) => w.webhooks) : [],
      this.connectors.parking?.list({ limit: 1000 }) ?? [],
      this.latestRuns(),
    ]);
    const circuits = this.connectors.circuits;
    send(
      reply,
      overviewPage(ctx, {
        head: this.throughput.head,
        rate: this.throughput.rate,
        series: this.throughput.series(),
        lags,
        connectors: [...this.connectors.byTarget.keys()].map((target) => ({
          target,
          circuit: circuits?.get(target)?.state ?? 'unknown',
        })),
        webhooks,
        parked: parked.length,
        parkedMore: parked.length === 1000,
        mismatches: (this.reconciliation?.targets ?? []).map((target) => ({
          target,
          run: latest.get(target),
        })),
      }),
    );
  }

  @Get('dossiers')
  async dossier(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('code') code: unknown,
  ): Promise<void> {
    const caller = this.caller(req);
    const ctx = this.context(req, reply);
    const wanted = typeof code === 'string' ? code.trim().slice(0, 100) : '';
    if (wanted === '') return send(reply, dossierPage(ctx, undefined, ''));
    const data = await this.dossierData(wanted, caller);
    send(reply, dossierPage(ctx, data, wanted), data.view ? 200 : 404);
  }

  @Get('mismatches')
  async mismatches(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.caller(req);
    const ctx = this.context(req, reply);
    const service = this.reconciliations();
    send(reply, mismatchesPage(ctx, service.targets, await service.list({ limit: 50 })));
  }

  @Post('mismatches')
  async startRun(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const run = await this.reconciliations().start(field(body, 'target', 100), {}, caller.name);
    redirect(reply, `/console/mismatches/${encodeURIComponent(run.id)}`);
  }

  @Get('mismatches/:id')
  async run(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('id') id: string): Promise<void> {
    this.caller(req);
    const ctx = this.context(req, reply);
    const service = this.reconciliations();
    const run = await service.get(id);
    const page = await service.mismatches(id, { limit: 500 });
    send(reply, runPage(ctx, run, page.mismatches));
  }

  @Get('mismatches/:id/status')
  async runStatus(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
  ): Promise<void> {
    this.caller(req);
    const ctx = this.context(req, reply);
    const run = await this.reconciliations().get(id);
    // Once the run is done, htmx reloads the page: its findings appear under the status.
    if (run.state !== 'running' && req.headers['hx-request'] === 'true')
      void reply.header('hx-refresh', 'true');
    send(reply, runStatus(ctx, run));
  }

  @Post('replays/plan')
  async plan(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: Form = {}): Promise<void> {
    const caller = this.formCaller(req, body);
    const ctx = this.context(req, reply);
    const runId = field(body, 'run', 100);
    const plan = await this.replays().plan(
      field(body, 'target', 200),
      { reconciliationRun: runId },
      caller.name,
    );
    send(reply, planPage(ctx, plan, runId));
  }

  @Post('replays')
  async startReplay(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const { replay } = await this.replays().run(
      field(body, 'target', 200),
      { reconciliationRun: field(body, 'run', 100) },
      { by: caller.name, confirm: body.confirm === 'true' },
    );
    redirect(reply, `/console/replays/${encodeURIComponent(replay.id)}`);
  }

  @Get('replays/:id')
  async replayPage(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
  ): Promise<void> {
    this.caller(req);
    send(reply, replayPage(this.context(req, reply), await this.replays().get(id)));
  }

  @Get('replays/:id/status')
  async replayStatus(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
  ): Promise<void> {
    this.caller(req);
    send(reply, replayStatus(this.context(req, reply), await this.replays().get(id)));
  }

  @Get('parked')
  async parkedList(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.caller(req);
    const ctx = this.context(req, reply);
    send(reply, parkedPage(ctx, await this.parkedItems()));
  }

  @Post('parked/retry')
  async retry(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const ctx = this.context(req, reply);
    const target = field(body, 'target');
    const dossier = field(body, 'dossier');
    const note = optionalField(body, 'note');
    const { delivery } = await this.parked.retry(caller, target, dossier, note === undefined ? {} : { note });
    send(
      reply,
      parkedPage(ctx, await this.parkedItems(), ctx.t('parked.retried', { target, dossier, delivery })),
    );
  }

  @Post('parked/skip')
  async skip(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: Form = {}): Promise<void> {
    const caller = this.formCaller(req, body);
    const ctx = this.context(req, reply);
    const target = field(body, 'target');
    const dossier = field(body, 'dossier');
    const note = optionalField(body, 'note');
    const { entry } = await this.parked.skip(caller, target, dossier, note === undefined ? {} : { note });
    send(
      reply,
      parkedPage(
        ctx,
        await this.parkedItems(),
        ctx.t('parked.skipped', { target, dossier, through: entry.throughPosition }),
      ),
    );
  }

  @Get('parked/history')
  async history(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('target') target: unknown,
    @Query('dossier') dossier: unknown,
  ): Promise<void> {
    this.caller(req);
    const ctx = this.context(req, reply);
    const form = {
      target: typeof target === 'string' ? target : '',
      dossier: typeof dossier === 'string' ? dossier : '',
    };
    const t = field(form, 'target');
    const d = field(form, 'dossier');
    const { history } = await this.parked.history(t, d);
    send(reply, parkingHistoryPage(ctx, t, d, history));
  }

  @Get('webhooks')
  async webhookList(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const caller = this.caller(req);
    send(
      reply,
      webhooksPage(this.context(req, reply), (await this.hooks().list(caller, { limit: 100 })).webhooks),
    );
  }

  @Get('webhooks/:id/attempts')
  async attempts(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
  ): Promise<void> {
    const caller = this.caller(req);
    const { attempts } = await this.hooks().attempts(caller, id, { limit: 100 });
    send(reply, attemptsPage(this.context(req, reply), id, attempts));
  }

  @Post('webhooks/:id/rotate')
  async rotate(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const ctx = this.context(req, reply);
    const { secret } = await this.hooks().rotateSecret(caller, id);
    const list = (await this.hooks().list(caller, { limit: 100 })).webhooks;
    send(reply, webhooksPage(ctx, list, { text: ctx.t('webhooks.secret', { id }), secret }));
  }

  @Post('webhooks/:id/enable')
  async enable(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const webhook = await this.hooks().enable(caller, id);
    await this.sendWebhooks(req, reply, caller, id, webhook.state);
  }

  @Post('webhooks/:id/disable')
  async disable(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Param('id') id: string,
    @Body() body: Form = {},
  ): Promise<void> {
    const caller = this.formCaller(req, body);
    const webhook = await this.hooks().disable(caller, id, 'disabled from the console');
    await this.sendWebhooks(req, reply, caller, id, webhook.state);
  }

  @Get('audit')
  async auditLog(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('after') after: unknown,
  ): Promise<void> {
    this.caller(req);
    const audit = this.audit;
    if (audit === undefined) throw new DomainError('not-found', 'this hub keeps no audit log');
    const from = typeof after === 'string' && /^[0-9]{1,15}$/.test(after) ? Number(after) : 0;
    const limit = 100;
    const entries = await audit.list({ limit, ...(from > 0 ? { after: from } : {}) });
    const last = entries[entries.length - 1];
    send(
      reply,
      auditPage(this.context(req, reply), entries, entries.length === limit && last ? last.id : undefined),
    );
  }

  @Get('clients')
  async clientList(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.caller(req);
    send(reply, clientsPage(this.context(req, reply), await this.clients.list()));
  }

  /** The signed-in operator; without a live session, to the login page. */
  private caller(req: FastifyRequest): Client {
    const client = req.client;
    if (!req.consoleSession || !client || !mayUseConsole(client)) throw new LoginRequired();
    return client;
  }

  /** The signed-in operator of a form whose CSRF token is the session's; 403 otherwise, before anything changes. */
  private formCaller(req: FastifyRequest, body: Form): Client {
    const client = this.caller(req);
    const session = req.consoleSession;
    if (!session || !csrfMatches(session.csrf, body[CSRF_FIELD])) throw new CsrfRefused();
    return client;
  }

  private context(req: FastifyRequest, reply: FastifyReply): PageContext {
    return pageContext(req, reply);
  }

  private sendLogin(req: FastifyRequest, reply: FastifyReply, status: number, message?: string): void {
    const csrf = randomToken();
    appendCookie(
      reply,
      consoleCookie(req, LOGIN_CSRF_COOKIE, csrf, { path: '/console/login', maxAgeSeconds: 3600 }),
    );
    send(reply, loginPage(this.context(req, reply), csrf, message), status);
  }

  private async sendWebhooks(
    req: FastifyRequest,
    reply: FastifyReply,
    caller: Client,
    id: string,
    state: string,
  ): Promise<void> {
    const ctx = this.context(req, reply);
    const list = (await this.hooks().list(caller, { limit: 100 })).webhooks;
    const key = `webhooks.state.${state}` as MessageKey;
    send(reply, webhooksPage(ctx, list, { text: ctx.t('webhooks.changed', { id, state: ctx.t(key) }) }));
  }

  private async parkedItems() {
    return (await this.parked.list(200, 0, undefined)).parked;
  }

  /** The newest completed run of each target. */
  private async latestRuns(): Promise<Map<string, ReconciliationRun>> {
    const out = new Map<string, ReconciliationRun>();
    if (!this.reconciliation) return out;
    for (const run of await this.reconciliation.list({ limit: 100 })) {
      if (run.state === 'completed' && !out.has(run.target)) out.set(run.target, run);
    }
    return out;
  }

  private async dossierData(code: string, caller: Client): Promise<DossierData> {
    const view = await this.dossiers.get(code);
    if (!view)
      return {
        code,
        view: undefined,
        events: [],
        sync: [],
        mismatches: [],
        traceIds: [],
      };
    const stored = await this.store.readStream(`dossier-${code}`, { fromVersion: 1, limit: 500 });
    const events = stored.map(toWire);
    const traceIds = [...new Set(events.map(traceIdOf).filter((x): x is string => x !== undefined))];
    // The same sync state as `GET /v1/dossiers/{code}` shows the same caller.
    const sync: SyncEntry[] = await dossierSync(caller, code, this.connectors, this.webhooks);
    const mismatches: (Mismatch & { run: string })[] = [];
    if (this.reconciliation) {
      for (const run of (await this.latestRuns()).values()) {
        if (run.mismatches.total === 0) continue;
        let after: number | undefined;
        for (let page = 0; page < MAX_MISMATCH_PAGES; page++) {
          const p = await this.reconciliation.mismatches(run.id, {
            limit: 1000,
            ...(after ? { after } : {}),
          });
          for (const m of p.mismatches) if (m.dossier === code) mismatches.push({ ...m, run: run.id });
          if (p.next === undefined) break;
          after = p.next;
        }
      }
    }
    return { code, view, events, sync, mismatches, traceIds };
  }

  private reconciliations(): ReconciliationService {
    if (!this.reconciliation) throw new DomainError('not-found', 'reconciliation is not enabled');
    return this.reconciliation;
  }

  private replays(): ReplayService {
    if (!this.replay) throw new DomainError('not-found', 'replays are not enabled in this hub');
    return this.replay;
  }

  private hooks(): WebhookService {
    if (!this.webhooks) throw new DomainError('not-found', 'webhooks are not enabled on this hub');
    return this.webhooks;
  }
}

function send(reply: FastifyReply, page: Html, status = 200): void {
  void reply.code(status).type('text/html; charset=utf-8').send(page.value);
}

/** 303: the browser follows with a GET (post, redirect, get). */
function redirect(reply: FastifyReply, location: string): void {
  void reply.code(303).header('location', location).send();
}
