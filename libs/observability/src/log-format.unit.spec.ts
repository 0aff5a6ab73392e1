import { Writable } from 'node:stream';
import { NestLoggerAdapter, createLogger, resolveLogFormat } from '#lgsp/observability';

/** A destination that keeps what is written. */
function recorder(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('log format', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('writes readable lines in pretty: time, level, component and message, fields after, personal data masked', async () => {
    const out = recorder();
    const logger = createLogger({ format: 'pretty', colorize: false, destination: out.stream });
    logger
      .child({ component: 'connector.portal' })
      .warn(
        { target: 'portal', position: 42, idNumber: '051190001234' },
        'portal sync parked for Nguyễn Văn An 051190001234',
      );
    await settle();
    const line = out.text();
    expect(line).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: connector\.portal: portal sync parked for Nguyễn Văn An \*+234 \{.*"target":"portal".*\}\n$/,
    );
    expect(line).toContain('"position":42');
    expect(line).not.toContain('051190001234');
    expect(line).not.toMatch(/^\{/);
  });

  it('writes one JSON object per line in json', async () => {
    const out = recorder();
    const logger = createLogger({ format: 'json', destination: out.stream });
    logger.info({ target: 'portal' }, 'portal connector enabled');
    await settle();
    const record = JSON.parse(out.text()) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', msg: 'portal connector enabled', target: 'portal' });
  });
});

describe('NestJS lines', () => {
  it('writes route mappings and other start-up chatter at debug, and the rest at its own level', () => {
    const seen: string[] = [];
    const record =
      (level: string) =>
      (fields: object, msg: string): void =>
        void seen.push(`${level} ${(fields as { context?: string }).context ?? '-'} ${msg}`);
    const nest = new NestLoggerAdapter({
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    });
    nest.log('Mapped {/v1/events, POST} route', 'RouterExplorer');
    nest.log('ReadsController {/v1}:', 'RoutesResolver');
    nest.log('AppModule dependencies initialized', 'InstanceLoader');
    nest.log('Nest application successfully started', 'NestApplication');
    nest.log('something else', 'Custom');
    nest.warn('careful', 'RouterExplorer');
    expect(seen).toEqual([
      'debug RouterExplorer Mapped {/v1/events, POST} route',
      'debug RoutesResolver ReadsController {/v1}:',
      'debug InstanceLoader AppModule dependencies initialized',
      'debug NestApplication Nest application successfully started',
      'info Custom something else',
      'warn RouterExplorer careful',
    ]);
  });
});
