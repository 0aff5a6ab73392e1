import { Writable } from 'node:stream';
import { createLogger, maskIdNumbers, redact } from '#lgsp/observability';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('personal data in logs', () => {
  it('masks 12- and 9-digit ID numbers inside text, keeping the last three digits', () => {
    expect(maskIdNumbers('id 051190001234 and 123456789, phone 0912345678')).toBe(
      'id *********234 and ******789, phone 0912345678',
    );
  });

  it('masks name and ID fields at any depth, and leaves other fields alone', () => {
    expect(
      redact({
        dossierCode: 'A-1',
        data: { applicant: { fullName: 'Nguyễn Văn A', idNumber: '051190001234' }, status: 2 },
      }),
    ).toEqual({ dossierCode: 'A-1', data: { applicant: '[redacted]', status: 2 } });
    expect(redact({ person: { fullName: 'x' }, note: 'citizen 051190001234' })).toEqual({
      person: '[redacted]',
      note: 'citizen *********234',
    });
  });

  it('writes one JSON object per line with the citizen ID masked in fields and in the message', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'info' });
    logger.info(
      { event: { data: { applicant: { fullName: 'Lê Văn Tám', idNumber: '079203004567' } } } },
      'got 079203004567',
    );
    logger.flush();
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'info',
      msg: 'got *********567',
      event: { data: { applicant: '[redacted]' } },
    });
    expect(JSON.stringify(out.lines())).not.toContain('079203004567');
    expect(JSON.stringify(out.lines())).not.toContain('Lê Văn Tám');
  });
});
