import type { ParkedItem, ParkingHistoryEntry } from '#lgsp/connectors';
import { dossierStatusLabel, type DossierView } from '#lgsp/projections';
import type { Mismatch, ReconciliationRun } from '#lgsp/reconciliation';
import type { ReplayPlan, ReplayProgress } from '#lgsp/replay';
import type { AuditEntry, Client } from '#lgsp/security';
import type { SubscriptionLag } from '#lgsp/subscriptions';
import { redactedUrl, type DeliveryAttempt, type WebhookView } from '#lgsp/webhooks';
import type { WireEvent } from '../http/wire.js';
import { bars, sparkline } from './charts.js';
import { html, type Html } from './html.js';
import { isMessageKey, serviceMessage } from './i18n.js';
import { csrfField, layout, num, value, when, type PageContext } from './layout.js';

/** One external system's or webhook's sync state of a dossier (`sync` of GET /v1/dossiers/{code}). */
export interface SyncEntry {
  target: string;
  kind: 'connector' | 'webhook';
  lastPosition: number | null;
  lastDeliveredAt: string | null;
  parked: boolean;
  parkedReason?: string;
}

const label = (ctx: PageContext, prefix: string, key: string): string => {
  const full = `${prefix}.${key}`;
  return isMessageKey(full) ? ctx.t(full) : key;
};
const yesNo = (ctx: PageContext, b: boolean) => ctx.t(b ? 'common.yes' : 'common.no');
/** A service's own message (a run's error, a parking's reason) in the page's language. */
const said = (ctx: PageContext, text: string): string => serviceMessage(ctx.lang, text);

export function loginPage(ctx: PageContext, csrf: string, message?: string): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('login.title'),
    html`${message ? html`<p class="alert" role="alert">${message}</p>` : ''}
      <form method="post" action="/console/login" class="stack">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <label for="token">${t('login.token')}</label>
        <input id="token" name="token" type="password" autocomplete="off" required />
        <p class="hint">${t('login.help')}</p>
        <button type="submit">${t('login.submit')}</button>
      </form>`,
  );
}

export function errorPage(ctx: PageContext, status: number, detail: string): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('error.title'),
    html`<p class="alert" role="alert">${detail}</p>
      <p>${t('error.status', { status })}</p>
      <p><a href="/console">${t('error.back')}</a></p>`,
  );
}

export interface OverviewData {
  head: number;
  /** Events per second over the last sample interval, once two samples exist. */
  rate: number | undefined;
  series: number[];
  lags: SubscriptionLag[];
  connectors: { target: string; circuit: string }[];
  webhooks: WebhookView[];
  parked: number;
  parkedMore: boolean;
  mismatches: { target: string; run: ReconciliationRun | undefined }[];
}

export function overviewPage(ctx: PageContext, d: OverviewData): Html {
  const { t } = ctx;
  const open = d.mismatches.reduce((n, m) => n + (m.run?.mismatches.total ?? 0), 0);
  return layout(
    ctx,
    t('overview.title'),
    html`<section aria-labelledby="counts">
        <h2 id="counts">${t('overview.counts')}</h2>
        <dl class="figures">
          <div>
            <dt>${t('overview.parked')}</dt>
            <dd><a href="/console/parked">${num(ctx, d.parked)}${d.parkedMore ? '+' : ''}</a></dd>
          </div>
          <div>
            <dt>${t('overview.mismatches')}</dt>
            <dd><a href="/console/mismatches">${num(ctx, open)}</a></dd>
          </div>
          <div>
            <dt>${t('overview.throughput')}</dt>
            <dd>${d.rate === undefined ? '—' : num(ctx, d.rate)}</dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="tp">
        <h2 id="tp">${t('overview.throughput')}</h2>
        <p>
          ${d.rate === undefined ? t('overview.collecting') : t('overview.throughputNow', { rate: num(ctx, d.rate), head: d.head })}
        </p>
        ${d.series.length > 1 ? sparkline(d.series, t('overview.throughputChart')) : ''}
      </section>
      <section aria-labelledby="lag">
        <h2 id="lag">${t('overview.lag')}</h2>
        ${bars(
          d.lags.map((l) => ({ label: l.name, value: l.lagEvents })),
          t('overview.lagChart'),
        )}
        <table>
          <thead>
            <tr>
              <th scope="col">${t('col.subscriber')}</th>
              <th scope="col">${t('col.checkpoint')}</th>
              <th scope="col">${t('col.lagEvents')}</th>
              <th scope="col">${t('col.lagSeconds')}</th>
              <th scope="col">${t('col.state')}</th>
            </tr>
          </thead>
          <tbody>
            ${d.lags.map(
              (l) =>
                html`<tr>
                  <th scope="row">${l.name}</th>
                  <td>${l.checkpoint}</td>
                  <td>${l.lagEvents}</td>
                  <td>${num(ctx, l.lagSeconds)}</td>
                  <td>
                    ${label(ctx, 'sub.state', l.state)}${l.lastError ? html` <span class="muted">${said(ctx, l.lastError)}</span>` : ''}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="conn">
        <h2 id="conn">${t('overview.connectors')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('col.target')}</th>
              <th scope="col">${t('col.circuit')}</th>
              <th scope="col">${t('overview.mismatches')}</th>
            </tr>
          </thead>
          <tbody>
            ${d.connectors.map((c) => {
              const m = d.mismatches.find((x) => x.target === c.target);
              return html`<tr>
                <th scope="row">${c.target}</th>
                <td><span class="state state-${c.circuit}">${label(ctx, 'circuit', c.circuit)}</span></td>
                <td>
                  ${m?.run ? html`<a href="/console/mismatches/${m.run.id}">${m.run.mismatches.total}</a>` : '—'}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
        <p class="hint">${t('overview.mismatchesHelp')}</p>
      </section>
      <section aria-labelledby="wh">
        <h2 id="wh">${t('overview.webhooks')}</h2>
        ${
          d.webhooks.length === 0
            ? html`<p>${t('webhooks.none')}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">${t('col.state')}</th>
                    <th scope="col">${t('col.lagEvents')}</th>
                    <th scope="col">${t('col.pending')}</th>
                    <th scope="col">${t('col.parked')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${d.webhooks.map(
                    (w) =>
                      html`<tr>
                        <th scope="row"><a href="/console/webhooks/${w.id}/attempts">${w.id}</a></th>
                        <td>
                          <span class="state state-${w.state}">${label(ctx, 'webhooks.state', w.state)}</span>
                        </td>
                        <td>${w.lag.events}</td>
                        <td>${w.pending}</td>
                        <td>${w.parked}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`,
  );
}

export interface DossierData {
  code: string;
  view: DossierView | undefined;
  events: WireEvent[];
  sync: SyncEntry[];
  /** Whether `sync` is the hub's own sync state (else it is derived from parking only). */
  mismatches: (Mismatch & { run: string })[];
  traceIds: string[];
}

export function dossierSearch(ctx: PageContext, code: string): Html {
  const { t } = ctx;
  return html`<form method="get" action="/console/dossiers" class="inline" role="search">
    <label for="code">${t('dossier.search')}</label>
    <input id="code" name="code" value="${code}" required maxlength="100" />
    <button type="submit">${t('dossier.find')}</button>
  </form>`;
}

export function dossierPage(ctx: PageContext, d: DossierData | undefined, code: string): Html {
  const { t } = ctx;
  if (d === undefined) return layout(ctx, t('dossier.title'), dossierSearch(ctx, code));
  if (d.view === undefined)
    return layout(
      ctx,
      t('dossier.title'),
      html`${dossierSearch(ctx, code)}
        <p class="alert" role="alert">${t('dossier.notFound', { code })}</p>`,
    );
  const v = d.view;
  const row = (k: Parameters<typeof t>[0], x: unknown) =>
    html`<div>
      <dt>${t(k)}</dt>
      <dd>${x === undefined || x === null || x === '' ? '—' : String(x)}</dd>
    </div>`;
  return layout(
    ctx,
    t('dossier.heading', { code: d.code }),
    html`${dossierSearch(ctx, code)}
      <section aria-labelledby="proj">
        <h2 id="proj">${t('dossier.projection')}</h2>
        <dl class="fields">
          ${row('field.applicant', v.applicant?.fullName)}
          ${row('field.procedure', [v.procedureCode, v.procedureName].filter(Boolean).join(' · '))}
          ${row('field.status', v.status === undefined ? undefined : `${v.status} ${dossierStatusLabel(v.status)?.[ctx.lang] ?? ''}`.trim())}
          ${row('field.province', v.provinceCode)} ${row('field.commune', v.communeCode)}
          ${row('field.agency', v.currentAgencyCode ?? v.agencyCode)}
          ${row('field.receivedAt', when(ctx, v.receivedAt))} ${row('field.dueAt', when(ctx, v.dueAt))}
          ${row(
            'field.payment',
            t('field.paymentValue', {
              state: v.payment.state,
              due: num(ctx, v.payment.amountDue),
              paid: num(ctx, v.payment.amountPaid),
            }),
          )}
          ${row('field.civil', v.civilStatus ? `${v.civilStatus.registrationType} ${v.civilStatus.registrationNumber}` : undefined)}
          ${row('field.events', v.eventCount)}
          <div>
            <dt>${t('dossier.trace')}</dt>
            <dd>
              ${d.traceIds.length === 0 ? t('common.none') : d.traceIds.map((id) => html`<code class="trace">${id}</code> `)}
            </dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="sync">
        <h2 id="sync">${t('dossier.sync')}</h2>
        <table id="sync-table">
          <thead>
            <tr>
              <th scope="col">${t('col.target')}</th>
              <th scope="col">${t('col.kind')}</th>
              <th scope="col">${t('col.lastPosition')}</th>
              <th scope="col">${t('col.lastDeliveredAt')}</th>
              <th scope="col">${t('col.parked')}</th>
            </tr>
          </thead>
          <tbody>
            ${d.sync.map(
              (s) =>
                html`<tr data-target="${s.target}">
                  <th scope="row">${s.target}</th>
                  <td>${label(ctx, 'kind', s.kind)}</td>
                  <td>${s.lastPosition ?? '—'}</td>
                  <td>${when(ctx, s.lastDeliveredAt)}</td>
                  <td>
                    ${s.parked ? html`<span class="state state-open">${t('common.yes')}</span> ${said(ctx, s.parkedReason ?? '')}` : t('common.no')}
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="dm">
        <h2 id="dm">${t('dossier.mismatches')}</h2>
        <p class="hint">${t('dossier.mismatchesHelp')}</p>
        ${d.mismatches.length === 0 ? html`<p id="dossier-mismatches">${t('run.none')}</p>` : mismatchTable(ctx, d.mismatches, 'dossier-mismatches')}
      </section>
      <section aria-labelledby="ev">
        <h2 id="ev">${t('dossier.events')}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">${t('col.position')}</th>
              <th scope="col">${t('col.type')}</th>
              <th scope="col">${t('col.time')}</th>
              <th scope="col">${t('col.recordedAt')}</th>
              <th scope="col">${t('col.trace')}</th>
            </tr>
          </thead>
          <tbody>
            ${d.events.map((e) => {
              const tp = traceIdOf(e);
              return html`<tr>
                <td>${e.position}</td>
                <td>${e.event.type}</td>
                <td>${when(ctx, e.event.time)}</td>
                <td>${when(ctx, e.recordedAt)}</td>
                <td>${tp ? html`<code>${tp}</code>` : '—'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </section>`,
  );
}

/** The trace id of the W3C `traceparent` stored with an event (CloudEvents distributed tracing). */
export function traceIdOf(e: WireEvent): string | undefined {
  const tp = (e.event as Record<string, unknown>).traceparent;
  if (typeof tp !== 'string') return undefined;
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(tp);
  return m?.[1];
}

function mismatchTable(ctx: PageContext, list: readonly (Mismatch & { run?: string })[], id: string): Html {
  const { t } = ctx;
  return html`<table id="${id}">
    <thead>
      <tr>
        <th scope="col">${t('col.dossier')}</th>
        <th scope="col">${t('col.target')}</th>
        <th scope="col">${t('col.category')}</th>
        <th scope="col">${t('col.field')}</th>
        <th scope="col">${t('col.expected')}</th>
        <th scope="col">${t('col.actual')}</th>
      </tr>
    </thead>
    <tbody>
      ${list.map(
        (m) =>
          html`<tr>
            <td><a href="/console/dossiers?code=${encodeURIComponent(m.dossier)}">${m.dossier}</a></td>
            <td>${m.system}</td>
            <td>${label(ctx, 'category', m.category)}</td>
            <td>${m.field}</td>
            <td>${value(m.expected)}</td>
            <td>${value(m.actual)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function mismatchesPage(ctx: PageContext, targets: string[], runs: ReconciliationRun[]): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('mismatches.title'),
    html`<section aria-labelledby="start">
        <h2 id="start">${t('mismatches.start')}</h2>
        <form method="post" action="/console/mismatches" class="inline">
          ${csrfField(ctx)}
          <label for="target">${t('mismatches.target')}</label>
          <select id="target" name="target">
            ${targets.map((x) => html`<option value="${x}">${x}</option>`)}
          </select>
          <button type="submit">${t('mismatches.start')}</button>
        </form>
      </section>
      <section aria-labelledby="runs">
        <h2 id="runs">${t('mismatches.runs')}</h2>
        ${
          runs.length === 0
            ? html`<p>${t('mismatches.noRuns')}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th scope="col">${t('col.run')}</th>
                    <th scope="col">${t('col.target')}</th>
                    <th scope="col">${t('col.state')}</th>
                    <th scope="col">${t('col.found')}</th>
                    <th scope="col">${t('col.by')}</th>
                    <th scope="col">${t('col.startedAt')}</th>
                  </tr>
                </thead>
                <tbody>
                  ${runs.map(
                    (r) =>
                      html`<tr>
                        <td><a href="/console/mismatches/${r.id}">${r.id}</a></td>
                        <td>${r.target}</td>
                        <td>${label(ctx, 'run.state', r.state)}</td>
                        <td>${r.mismatches.total}</td>
                        <td>${r.by}</td>
                        <td>${when(ctx, r.startedAt)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`,
  );
}

/** A run's state, progress and counts; polled every second while the run is running. */
export function runStatus(ctx: PageContext, run: ReconciliationRun): Html {
  const { t } = ctx;
  const poll =
    run.state === 'running'
      ? html` hx-get="/console/mismatches/${run.id}/status" hx-trigger="every 1s" hx-swap="outerHTML"`
      : '';
  return html`<div id="run-status" class="status" role="status" ${poll} data-state="${run.state}">
    <p>
      <span class="state state-${run.state}">${label(ctx, 'run.state', run.state)}</span>
      ${t('run.progress', run.progress as unknown as Record<string, number>)}
    </p>
    ${run.state === 'completed' ? html`<p>${t('run.summary', { total: run.mismatches.total, dossiers: run.mismatches.dossiers })}</p>` : ''}
    ${run.error ? html`<p class="alert">${t('run.error', { error: said(ctx, run.error) })}</p>` : ''}
    ${run.state === 'running' ? '' : html`<p><a href="/console/mismatches/${run.id}">${t('common.refresh')}</a></p>`}
  </div>`;
}

export function runPage(ctx: PageContext, run: ReconciliationRun, mismatches: Mismatch[]): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('run.title', { id: run.id }),
    html`<p>
        ${t('col.target')}: <strong>${run.target}</strong> · ${t('col.by')}: ${run.by} ·
        ${when(ctx, run.startedAt)}
      </p>
      ${runStatus(ctx, run)}
      ${
        run.state === 'completed' && run.mismatches.total > 0
          ? html`<form method="post" action="/console/replays/plan" class="inline">
              ${csrfField(ctx)} <input type="hidden" name="target" value="${run.target}" /><input
                type="hidden"
                name="run"
                value="${run.id}"
              />
              <button type="submit">${t('replay.preview')}</button>
            </form>`
          : ''
      }
      ${run.state === 'completed' && mismatches.length === 0 ? html`<p id="run-mismatches">${t('run.none')}</p>` : ''}
      ${mismatches.length > 0 ? mismatchTable(ctx, mismatches, 'run-mismatches') : ''}`,
  );
}

export function planPage(ctx: PageContext, plan: ReplayPlan, runId: string): Html {
  const { t } = ctx;
  const empty = plan.dossiers.length === 0 && plan.events === 0;
  return layout(
    ctx,
    t('replay.planTitle'),
    html`<p id="plan-summary">
        ${t('replay.planSummary', {
          dossiers: plan.dossiers.length,
          events: plan.events,
          calls: plan.calls,
          target: plan.target,
          seconds: num(ctx, plan.estimatedSeconds),
        })}
      </p>
      ${
        plan.dossiers.length > 0
          ? html`<h2>${t('replay.planDossiers')}</h2>
              <ul class="codes">
                ${plan.dossiers
                  .slice(0, 200)
                  .map(
                    (c) => html`<li><a href="/console/dossiers?code=${encodeURIComponent(c)}">${c}</a></li>`,
                  )}
              </ul>`
          : ''
      }
      ${
        empty
          ? html`<p>${t('replay.nothing')}</p>`
          : html`<form method="post" action="/console/replays">
              ${csrfField(ctx)} <input type="hidden" name="target" value="${plan.target}" /><input
                type="hidden"
                name="run"
                value="${runId}"
              />
              <input type="hidden" name="confirm" value="true" />
              <button type="submit">${t('replay.confirm')}</button>
            </form>`
      }`,
  );
}

/** A replay's progress; polled every second while it runs. */
export function replayStatus(ctx: PageContext, r: ReplayProgress): Html {
  const { t } = ctx;
  const poll =
    r.state === 'running' || r.state === 'paused'
      ? html` hx-get="/console/replays/${r.id}/status" hx-trigger="every 1s" hx-swap="outerHTML"`
      : '';
  return html`<div id="replay-status" class="status" role="status" ${poll} data-state="${r.state}">
    <p>
      <span class="state state-${r.state}">${label(ctx, 'replay.state', r.state)}</span>
      ${t('replay.progress', { done: r.done, total: r.total, failed: r.failed })}
    </p>
    <progress max="${Math.max(1, r.total)}" value="${r.done}" aria-label="${t('replay.progressLabel')}">
      ${r.done}/${r.total}
    </progress>
    ${r.error ? html`<p class="alert">${said(ctx, r.error)}</p>` : ''}
  </div>`;
}

export function replayPage(ctx: PageContext, r: ReplayProgress): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('replay.title', { id: r.id }),
    html`<p>${t('col.target')}: <strong>${r.target}</strong> · ${t('col.by')}: ${r.by}</p>
      ${replayStatus(ctx, r)}
      <form method="post" action="/console/mismatches" class="inline">
        ${csrfField(ctx)}
        <input type="hidden" name="target" value="${r.target}" />
        <button type="submit">${t('replay.reconcileAgain', { target: r.target })}</button>
      </form>`,
  );
}

export function parkedPage(ctx: PageContext, items: ParkedItem[], message?: string): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('parked.title'),
    html`${message ? html`<p class="notice" role="status">${message}</p>` : ''}
    ${
      items.length === 0
        ? html`<p>${t('parked.none')}</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">${t('col.target')}</th>
                <th scope="col">${t('col.dossier')}</th>
                <th scope="col">${t('col.position')}</th>
                <th scope="col">${t('col.attempts')}</th>
                <th scope="col">${t('col.lastError')}</th>
                <th scope="col">${t('col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              ${items.map((p, i) => {
                const hidden = html`${csrfField(ctx)}<input
                    type="hidden"
                    name="target"
                    value="${p.target}"
                  /><input type="hidden" name="dossier" value="${p.dossier}" />`;
                return html`<tr>
                  <td>${p.target}</td>
                  <td><a href="/console/dossiers?code=${encodeURIComponent(p.dossier)}">${p.dossier}</a></td>
                  <td>${p.firstPosition}–${p.lastPosition}</td>
                  <td>${p.attempts}</td>
                  <td>${said(ctx, p.lastError)}</td>
                  <td class="actions">
                    <form method="post" action="/console/parked/retry" class="inline">
                      ${hidden}
                      <label class="visually-hidden" for="note-${i}"
                        >${t('parked.noteLabel', { dossier: p.dossier })}</label
                      >
                      <input id="note-${i}" name="note" maxlength="1000" placeholder="${t('col.note')}" />
                      <button type="submit">${t('parked.retry')}</button>
                      <button type="submit" formaction="/console/parked/skip">${t('parked.skip')}</button>
                    </form>
                    <a
                      href="/console/parked/history?target=${encodeURIComponent(p.target)}&amp;dossier=${encodeURIComponent(p.dossier)}"
                      >${t('parked.history')}</a
                    >
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>`
    }`,
  );
}

export function parkingHistoryPage(
  ctx: PageContext,
  target: string,
  dossier: string,
  history: ParkingHistoryEntry[],
): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('parked.historyTitle', { target, dossier }),
    html`<table>
      <thead>
        <tr>
          <th scope="col">${t('col.at')}</th>
          <th scope="col">${t('col.action')}</th>
          <th scope="col">${t('col.by')}</th>
          <th scope="col">${t('col.position')}</th>
          <th scope="col">${t('col.note')}</th>
        </tr>
      </thead>
      <tbody>
        ${history.map(
          (h) =>
            html`<tr>
              <td>${when(ctx, h.at)}</td>
              <td>${label(ctx, 'parking', h.action)}</td>
              <td>${h.by}</td>
              <td>${h.fromPosition}–${h.throughPosition}</td>
              <td>${h.note ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`,
  );
}

export function webhooksPage(
  ctx: PageContext,
  webhooks: WebhookView[],
  message?: { text: string; secret?: string },
): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('webhooks.title'),
    html`${
      message
        ? html`<div class="notice" role="status">
            <p>${message.text}</p>
            ${message.secret ? html`<p><code class="secret">${message.secret}</code></p>` : ''}
          </div>`
        : ''
    }
    ${
      webhooks.length === 0
        ? html`<p>${t('webhooks.none')}</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">${t('col.url')}</th>
                <th scope="col">${t('col.state')}</th>
                <th scope="col">${t('col.lagEvents')}</th>
                <th scope="col">${t('col.parked')}</th>
                <th scope="col">${t('col.actions')}</th>
              </tr>
            </thead>
            <tbody>
              ${webhooks.map((w) => {
                const enable = w.state === 'active' ? 'disable' : 'enable';
                return html`<tr>
                  <td>${w.id}</td>
                  <td>${redactedUrl(w.url)}</td>
                  <td>
                    <span class="state state-${w.state}">${label(ctx, 'webhooks.state', w.state)}</span
                    >${w.disabledReason ? html` <span class="muted">${w.disabledReason}</span>` : ''}
                  </td>
                  <td>${w.lag.events}</td>
                  <td>${w.parked}</td>
                  <td class="actions">
                    <a href="/console/webhooks/${w.id}/attempts">${t('webhooks.attempts')}</a>
                    <form method="post" action="/console/webhooks/${w.id}/rotate" class="inline">
                      ${csrfField(ctx)}<button type="submit">${t('webhooks.rotate')}</button>
                    </form>
                    <form method="post" action="/console/webhooks/${w.id}/${enable}" class="inline">
                      ${csrfField(ctx)}<button type="submit">
                        ${t(enable === 'enable' ? 'webhooks.enable' : 'webhooks.disable')}
                      </button>
                    </form>
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>`
    }`,
  );
}

export function attemptsPage(ctx: PageContext, id: string, attempts: DeliveryAttempt[]): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('webhooks.attemptsTitle', { id }),
    attempts.length === 0
      ? html`<p>${t('webhooks.noAttempts')}</p>`
      : html`<table>
          <thead>
            <tr>
              <th scope="col">${t('col.at')}</th>
              <th scope="col">${t('col.position')}</th>
              <th scope="col">${t('col.attempt')}</th>
              <th scope="col">${t('col.status')}</th>
              <th scope="col">${t('col.duration')}</th>
            </tr>
          </thead>
          <tbody>
            ${attempts.map(
              (a) =>
                html`<tr>
                  <td>${when(ctx, a.at)}</td>
                  <td>${a.position}</td>
                  <td>${a.attempt}</td>
                  <td>${a.status ?? '—'}</td>
                  <td>${a.durationMs}</td>
                </tr>`,
            )}
          </tbody>
        </table>`,
  );
}

export function auditPage(ctx: PageContext, entries: AuditEntry[], next: number | undefined): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('audit.title'),
    html`${
      entries.length === 0
        ? html`<p>${t('audit.none')}</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">${t('col.at')}</th>
                <th scope="col">${t('col.actor')}</th>
                <th scope="col">${t('col.action')}</th>
                <th scope="col">${t('col.subject')}</th>
                <th scope="col">${t('col.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              ${entries.map(
                (e) =>
                  html`<tr>
                    <td>${when(ctx, e.at)}</td>
                    <td>${e.actor}</td>
                    <td>${e.action}</td>
                    <td>${e.subject}</td>
                    <td>${value(e.outcome)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${next === undefined ? '' : html`<p><a href="/console/audit?after=${next}">${t('audit.next')}</a></p>`}`,
  );
}

export function clientsPage(ctx: PageContext, clients: Client[]): Html {
  const { t } = ctx;
  return layout(
    ctx,
    t('clients.title'),
    html`<table>
      <thead>
        <tr>
          <th scope="col">${t('col.name')}</th>
          <th scope="col">${t('col.role')}</th>
          <th scope="col">${t('col.scope')}</th>
          <th scope="col">${t('col.createdAt')}</th>
          <th scope="col">${t('col.revoked')}</th>
        </tr>
      </thead>
      <tbody>
        ${clients.map(
          (c) =>
            html`<tr>
              <td>${c.name}</td>
              <td>${label(ctx, 'role', c.role)}</td>
              <td>
                ${c.role === 'commune' ? c.communeCodes.join(', ') : (c.provinceCode ?? t('clients.all'))}
              </td>
              <td>${when(ctx, c.createdAt)}</td>
              <td>${c.revokedAt ? when(ctx, c.revokedAt) : yesNo(ctx, false)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`,
  );
}
