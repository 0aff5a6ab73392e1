import { EVENT_TYPES } from '#lgsp/contracts';
import { HubMetrics, errorCodeLabel, eventTypeLabel } from '#lgsp/observability';

const labelValues = (text: string): string[] =>
  [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1] ?? '').filter((v, i, all) => all.indexOf(v) === i);

describe('HubMetrics labels', () => {
  it('keeps a catalogue type as the type label and turns any other value into "invalid"', () => {
    for (const type of EVENT_TYPES) expect(eventTypeLabel(type)).toBe(type);
    expect(eventTypeLabel('vn.gov.lgsp.dossier.submitted.v9')).toBe('invalid');
    expect(eventTypeLabel('x'.repeat(500_000))).toBe('invalid');
    expect(eventTypeLabel(undefined)).toBe('invalid');
    expect(eventTypeLabel({ toString: () => EVENT_TYPES[0] })).toBe('invalid');
    expect(errorCodeLabel('invalid')).toBe('invalid');
    expect(errorCodeLabel('Nguyễn Văn An 051190001234')).toBe('other');
  });

  it('publishes no label value from hostile input, and one series per closed label set', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    const hostile = [
      'x'.repeat(500_000),
      'Nguyễn Văn An 051190001234 0912345678',
      ...Array.from({ length: 200 }, (_, i) => `random.type.${i}.${Math.random()}`),
    ];
    for (const type of hostile) {
      metrics.eventRejected(type, 'invalid');
      metrics.eventRejected(type, `code-${type}`);
      metrics.eventDuplicate(type);
      metrics.eventAppended(type, 0.001);
    }
    metrics.kafkaIngested(`outcome-${hostile[1]}`, hostile[1]);
    metrics.kafkaIngested('retrying', 'error');
    metrics.kafkaIngested('appended');
    metrics.eventAppended(EVENT_TYPES[0], 0.001);

    const text = await metrics.render();
    for (const type of hostile) expect(text).not.toContain(type);
    expect(text.length).toBeLessThan(20_000);
    expect(labelValues(text).sort()).toEqual(
      [
        'invalid',
        'rejected-invalid',
        'rejected-other',
        'duplicate',
        'appended',
        EVENT_TYPES[0],
        'other',
        'retrying',
        'error',
        '',
        '+Inf',
        ...[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5].map(String),
      ].sort(),
    );
  });

  it('counts the events a consumer could not read at its version, by consumer and stored type', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.eventUnreadable('webhooks', 'vn.gov.lgsp.dossier.submitted.v1');
    metrics.eventUnreadable('webhooks', 'vn.gov.lgsp.dossier.submitted.v1');
    metrics.eventUnreadable('relay', 'vn.gov.lgsp.dossier.submitted.v2');
    metrics.eventUnreadable('projection', 'not a type');
    const text = await metrics.render();
    expect(text).toContain(
      'lgsp_event_conversion_failures_total{consumer="webhooks",type="vn.gov.lgsp.dossier.submitted.v1"} 2',
    );
    expect(text).toContain(
      'lgsp_event_conversion_failures_total{consumer="relay",type="vn.gov.lgsp.dossier.submitted.v2"} 1',
    );
    expect(text).toContain('lgsp_event_conversion_failures_total{consumer="projection",type="invalid"} 1');
  });

  it('counts refusals by rate limit and refused connections', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.requestRateLimited('client');
    metrics.requestRateLimited('client');
    metrics.requestRateLimited('address');
    metrics.connectionRefused();
    const text = await metrics.render();
    expect(text).toContain('lgsp_http_rate_limited_total{limit="client"} 2');
    expect(text).toContain('lgsp_http_rate_limited_total{limit="address"} 1');
    expect(text).toContain('lgsp_http_connections_refused_total 1');
  });

  it('labels HTTP requests by route pattern, never by path, with method and status from closed sets', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.httpRequest('GET', '/v1/dossiers/:dossierCode', 200, 0.002);
    metrics.httpRequest('GET', undefined, 404, 0.001);
    metrics.httpRequest('BREW', '/v1/events', 999, 0.001);
    const text = await metrics.render();
    expect(text).toContain(
      'lgsp_http_request_duration_seconds_count{method="GET",route="/v1/dossiers/:dossierCode",status="200"} 1',
    );
    expect(text).toContain(
      'lgsp_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1',
    );
    expect(text).toContain(
      'lgsp_http_request_duration_seconds_count{method="other",route="/v1/events",status="other"} 1',
    );
  });

  it('counts connector calls by operation and outcome and times them, leaving refusals by the open circuit untimed', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.connectorCall('portal', 'sync', 'ok', 0.2);
    metrics.connectorCall('portal', 'sync', 'unavailable', 1.5);
    metrics.connectorCall('portal', 'sync', 'circuit-open', 0);
    metrics.connectorCall('portal', 'sync', 'Nguyễn Văn An', 0.1);
    metrics.connectorCall('portal', 'capture', 'timeout', 10);
    metrics.connectorCall('payments', 'poll', 'ok', 0.05);
    metrics.connectorCall('payments', 'Trần Thị B' as 'poll', 'ok', 0.05);
    metrics.connectorRateLimitWaited('portal', 0.3);
    metrics.webhookRateLimitWaited('wh_1', 0.7);
    const text = await metrics.render();
    expect(text).toContain('lgsp_connector_calls_total{target="portal",operation="sync",outcome="ok"} 1');
    expect(text).toContain(
      'lgsp_connector_calls_total{target="portal",operation="sync",outcome="unavailable"} 1',
    );
    expect(text).toContain(
      'lgsp_connector_calls_total{target="portal",operation="sync",outcome="circuit-open"} 1',
    );
    expect(text).toContain('lgsp_connector_calls_total{target="portal",operation="sync",outcome="other"} 1');
    expect(text).toContain(
      'lgsp_connector_calls_total{target="portal",operation="capture",outcome="timeout"} 1',
    );
    expect(text).toContain('lgsp_connector_calls_total{target="payments",operation="poll",outcome="ok"} 1');
    expect(text).toContain('lgsp_connector_calls_total{target="payments",operation="other",outcome="ok"} 1');
    expect(text).not.toContain('Nguyễn');
    expect(text).not.toContain('Trần');
    expect(text).toContain('lgsp_connector_call_seconds_count{target="portal",operation="sync"} 3');
    expect(text).toContain('lgsp_connector_call_seconds_sum{target="portal",operation="sync"} 1.8');
    expect(text).toContain('lgsp_connector_call_seconds_sum{target="portal",operation="capture"} 10');
    expect(text).toContain('lgsp_connector_call_seconds_count{target="payments",operation="poll"} 1');
    expect(text).toContain('lgsp_connector_rate_limit_wait_seconds_count{target="portal"} 1');
    expect(text).toContain('lgsp_webhook_rate_limit_wait_seconds_sum{webhook="wh_1"} 0.7');
  });

  it('samples circuits, parkings, mismatches and replays at scrape time, dropping what is gone', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    let circuit: 'closed' | 'open' = 'open';
    let replays = [{ target: 'portal', state: 'running', total: 10, done: 4, failed: 1 }];
    metrics.samplers.connectors = async () => [{ target: 'portal', circuit, parked: 3 }];
    metrics.samplers.mismatches = async () => [
      { target: 'portal', byCategory: { 'stale-status': 2, 'wrong-field': 0 } },
    ];
    metrics.samplers.replays = { states: ['running', 'completed'], sample: async () => replays };
    let text = await metrics.render();
    expect(text).toContain('lgsp_connector_circuit_state{target="portal",state="open"} 1');
    expect(text).toContain('lgsp_connector_circuit_state{target="portal",state="closed"} 0');
    expect(text).toContain('lgsp_connector_circuit_state{target="portal",state="half-open"} 0');
    expect(text).toContain('lgsp_connector_parked_dossiers{target="portal"} 3');
    expect(text).toContain('lgsp_reconciliation_mismatches{target="portal",category="stale-status"} 2');
    expect(text).toContain('lgsp_reconciliation_mismatches{target="portal",category="wrong-field"} 0');
    expect(text).toContain('lgsp_replay_items{target="portal",kind="done"} 4');
    expect(text).toContain('lgsp_replay_state{target="portal",state="running"} 1');
    circuit = 'closed';
    replays = [];
    text = await metrics.render();
    expect(text).toContain('lgsp_connector_circuit_state{target="portal",state="closed"} 1');
    expect(text).not.toContain('lgsp_replay_items{');
  });

  it('shows a failing webhook endpoint as 1 and the others as 0', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    const sample = { state: 'active' as const, lagEvents: 0, lagSeconds: 0, parked: 0 };
    metrics.webhookSampler = async () => [
      { id: 'wh_a', ...sample, failing: true },
      { id: 'wh_b', ...sample },
    ];
    const text = await metrics.render();
    expect(text).toContain('lgsp_webhook_failing{webhook="wh_a"} 1');
    expect(text).toContain('lgsp_webhook_failing{webhook="wh_b"} 0');
  });

  it('exports Node default metrics under their standard names, unprefixed', async () => {
    const text = await new HubMetrics().render();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/^lgsp_(process|nodejs)_/m);
  });
});

describe('HubMetrics roles', () => {
  it('publishes one lgsp_hub_role series per role: 1 for those the process runs, 0 for the others', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.roles(['api', 'relay', 'projection'], ['relay']);
    const lines = (await metrics.render()).split('\n').filter((l) => l.startsWith('lgsp_hub_role{'));
    expect(lines.sort()).toEqual([
      'lgsp_hub_role{role="api"} 0',
      'lgsp_hub_role{role="projection"} 0',
      'lgsp_hub_role{role="relay"} 1',
    ]);
  });
});

describe('HubMetrics connectors', () => {
  it('leaves the circuit out for a connector whose breaker this process does not run, keeping its parked count', async () => {
    const metrics = new HubMetrics({ defaultMetrics: false });
    metrics.samplers.connectors = async () => [
      { target: 'portal', parked: 3 },
      { target: 'payments', circuit: 'open', parked: 0 },
    ];
    const text = await metrics.render();
    expect(text).toMatch(/^lgsp_connector_parked_dossiers\{target="portal"\} 3$/m);
    expect(text).not.toMatch(/lgsp_connector_circuit_state\{target="portal"/);
    expect(text).toMatch(/^lgsp_connector_circuit_state\{target="payments",state="open"\} 1$/m);
  });
});
