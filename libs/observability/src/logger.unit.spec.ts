import { Writable } from 'node:stream';
import { createLogger, maskIdNumbers, maskPointer, maskText, redact } from '#lgsp/observability';

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

  it('masks Vietnamese phone numbers in every written form, keeping the last three digits', () => {
    for (const phone of [
      '0912345678',
      '0912 345 678',
      '091.234.5678',
      '091-234-5678',
      '+84912345678',
      '+84 91 234 5678',
      '84912345678',
      '0084912345678',
      '02438261234',
      '(024) 3826 1234',
      '+84 24 3826 1234',
    ]) {
      const masked = maskText(`gọi ${phone} nhé`);
      expect(masked).not.toContain(phone);
      expect(masked.replace(/[^0-9]/g, '')).toBe(phone.replace(/[^0-9]/g, '').slice(-3));
    }
  });

  it("masks e-mail addresses in text and the portal's contact fields whole", () => {
    expect(maskText('applicant nguyen.thi.hoa+dvc@example.com.vn refused')).toBe(
      'applicant [redacted] refused',
    );
    expect(redact({ Email: 'a@b.vn', SoDienThoai: 'x', phone: 'y', MaHoSo: 'A-1' })).toEqual({
      Email: '[redacted]',
      SoDienThoai: '[redacted]',
      phone: '[redacted]',
      MaHoSo: 'A-1',
    });
  });

  it('leaves times, positions and codes alone', () => {
    const text =
      'at 2025-11-23T09:15:00+07:00 position 84123 commune 21040 dossier 000.00.51.H56-251123-0001';
    expect(maskText(text)).toBe(text);
  });

  it('leaves UUIDs whole even where their digit groups look like a phone or ID number', () => {
    const ids = ['201b0912-3427-4f16-ac7c-746c2d1ce259', '0a1b2c3d-0912-4345-8678-123456789012'];
    for (const id of ids) {
      expect(maskText(`replay ${id} of 0912345678`)).toBe(`replay ${id} of *******678`);
      expect(redact({ replay: id })).toEqual({ replay: id });
    }
    expect(maskText('x0912-3427-4f16-ac7c-746c2d1ce259')).not.toContain('0912-3427');
  });

  it('masks bearer tokens, hub tokens and secrets in query strings', () => {
    const token = 'lgsp_' + 'A1b2-C3d4_'.repeat(4) + 'xyz';
    const masked = maskText(
      `Authorization: Bearer abc.def-ghi, ${token}, /v1/events?after=1&token=s3cr3t&access_token=t0k&api_key=k`,
    );
    expect(masked).toBe(
      'Authorization: Bearer [redacted], lgsp_[redacted], /v1/events?after=1&token=[redacted]&access_token=[redacted]&api_key=[redacted]',
    );
    expect(maskText('header lgsp_dlq_reason, topic lgsp.ingest')).toBe(
      'header lgsp_dlq_reason, topic lgsp.ingest',
    );
  });

  it('masks phone numbers and tokens in every field and in the message, and a payload too deep to copy', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'info' });
    // Deeper than the redactor copies: it must be masked whole, not written as it is.
    let deep: Record<string, unknown> = { note: '0987654321' };
    for (let i = 0; i < 20; i++) deep = { inner: deep };
    logger.info(
      {
        reason: 'call +84 912 345 678',
        err: new Error('Bearer lgsp_abcdefghijklmnopqrstuvwxyz0123456789'),
        deep,
      },
      'from 0912.345.678',
    );
    logger.flush();
    const written = JSON.stringify(out.lines());
    for (const secret of ['912 345', '912.345', 'abcdefghijklmnopqrstuvwxyz', '0987654321'])
      expect(written).not.toContain(secret);
    expect(written).toContain('[redacted]');
  });

  it('keeps contract names and short indexes of a pointer and masks every other token', () => {
    const known = (name: string): boolean => ['data', 'applicant', 'fullName'].includes(name);
    expect(maskPointer('/0/data/applicant/fullName', known)).toBe('/0/data/applicant/fullName');
    expect(maskPointer('/data/Nguyễn Thị Hoà/051190001234/3', known)).toBe('/data/*/*/3');
    expect(maskPointer('', known)).toBe('');
  });
});
