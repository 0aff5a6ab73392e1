import { EVENT_TYPES } from '#lgsp/contracts';
import { HubMetrics, errorCodeLabel, eventTypeLabel } from '#lgsp/observability';

const labelValues = (text: string): string[] =>
  [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1] ?? '').filter((v, i, all) => all.indexOf(v) === i);

describe('HubMetrics labels', () => {
  it('keeps a catalogue type as the type label and turns any other value into "invalid"', () => {
    for (const type of EVENT_TYPES) expect(eventTypeLabel(type)).toBe(type);
    expect(eventTypeLabel('vn.gov.lgsp.dossier.submitted.v2')).toBe('invalid');
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
});
