import { randomUUID } from 'node:crypto';

/** Realistic events of the catalogue, for tests and benchmarks. Commune 21040 is Xã Bình Sơn, Quảng Ngãi (51). */
export const COMMUNE = '21040';
export const PROVINCE = '51';

let counter = 0;
export function dossierCode(): string {
  counter++;
  return `000.00.51.H56-251123-${String(counter).padStart(4, '0')}${randomUUID().slice(0, 4).toUpperCase()}`;
}

export interface EventInput {
  id?: string;
  source?: string;
  data: Record<string, unknown>;
  [attr: string]: unknown;
}

/**
 * A structured-mode event the commune's one-stop shop sends about dossier `code`: `data` beside the
 * dossier's codes, `overrides` over every attribute.
 */
function dossierEvent(
  type: string,
  time: string,
  code: string,
  data: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: `/communes/${COMMUNE}/one-stop-shop`,
    type,
    time,
    data: { dossierCode: code, provinceCode: PROVINCE, communeCode: COMMUNE, ...data },
    ...overrides,
  };
}

export function submitted(code: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return dossierEvent(
    'vn.gov.lgsp.dossier.submitted.v1',
    '2025-11-23T09:15:00+07:00',
    code,
    {
      procedureCode: '1.001193',
      procedureName: 'Đăng ký khai sinh',
      agencyCode: '000.00.51.H56',
      channel: 'in-person',
      applicant: { fullName: 'Nguyễn Thị Hoà', idNumber: '051190001234' },
      receivedAt: '2025-11-23T09:15:00+07:00',
      dueAt: '2025-11-26T17:00:00+07:00',
      fees: [{ name: 'Lệ phí', amount: 50000 }],
    },
    { datacontenttype: 'application/json', ...overrides },
  );
}

export function statusChanged(
  code: string,
  status: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return dossierEvent(
    'vn.gov.lgsp.dossier.status-changed.v1',
    '2025-11-23T10:00:00+07:00',
    code,
    {
      status,
      changedAt: '2025-11-23T10:00:00+07:00',
      handler: { name: 'Trần Văn Bình', title: 'Công chức', department: 'Bộ phận một cửa' },
    },
    overrides,
  );
}

/** The commune's one-stop-shop records the payment (the connectors capture the platform's own). */
export function paymentCompleted(code: string, amount: number): Record<string, unknown> {
  return dossierEvent('vn.gov.lgsp.payment.completed.v1', '2025-11-23T11:00:00+07:00', code, {
    paymentRef: `PR-${code}`,
    transactionId: `TX-${randomUUID().slice(0, 8)}`,
    amount,
    paidAt: '2025-11-23T11:00:00+07:00',
    bankCode: 'VCB',
  });
}

/** POSTs one structured-mode event or a batch. */
export async function post(
  url: string,
  token: string | undefined,
  body: unknown,
  contentType = 'application/cloudevents+json',
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; contentType: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extraHeaders,
    },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export async function getJson(
  url: string,
  token: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
