import type { CloudEvent } from './cloudevent.js';
import {
  EVENT_SCHEMA_NAMES,
  EVENT_SCHEMA_VERSIONS,
  type EventDataByType,
  type EventType,
} from './generated/events.js';

const EXAMPLE_DATA: { readonly [T in EventType]: EventDataByType[T] } = {
  'vn.gov.lgsp.dossier.submitted.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    procedureCode: '1.001193',
    agencyCode: '000.00.15.H55',
    provinceCode: '51',
    communeCode: '21040',
    channel: 'online',
    applicant: { fullName: 'Nguyễn Thị Đào', idNumber: '051190000123' },
    receivedAt: '2025-07-01T08:30:00+07:00',
    dueAt: '2025-07-04T17:00:00+07:00',
    procedureName: 'Đăng ký khai sinh',
    fees: [{ code: 'LP01', name: 'Lệ phí đăng ký khai sinh', amount: 0 }],
  },
  'vn.gov.lgsp.dossier.submitted.v2': {
    dossierCode: '000.00.15.H55-250701-0002',
    procedureCode: '1.000894',
    agencyCode: '000.00.15.H55',
    provinceCode: '51',
    communeCode: '21040',
    channel: 'online',
    persons: [
      {
        role: 'applicant',
        fullName: 'Nguyễn Thị Đào',
        documents: [
          { kind: 'citizen-id', number: '051190000123' },
          { kind: 'vneid', number: '051190000123', level: 2 },
        ],
        dateOfBirth: '1990-03-14',
        phone: '0912345678',
      },
      {
        role: 'co-applicant',
        fullName: 'Lê Văn Nam',
        documents: [{ kind: 'passport', number: 'C1234567' }],
      },
    ],
    receivedAt: '2025-07-01T08:30:00+07:00',
    dueAt: '2025-07-04T17:00:00+07:00',
    procedureName: 'Đăng ký kết hôn',
    fees: [{ code: 'LP02', name: 'Lệ phí đăng ký kết hôn', amount: 0 }],
  },
  'vn.gov.lgsp.dossier.status-changed.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    provinceCode: '51',
    communeCode: '21040',
    status: 4,
    previousStatus: 2,
    changedAt: '2025-07-01T09:15:00+07:00',
    handler: { name: 'Trần Văn Bình', title: 'Công chức tư pháp - hộ tịch' },
  },
  'vn.gov.lgsp.dossier.transferred.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    provinceCode: '51',
    communeCode: '21040',
    fromAgencyCode: '000.00.15.H55',
    toAgencyCode: '000.00.00.H55',
    transferredAt: '2025-07-02T10:00:00.125+07:00',
    reason: 'Chuyển Sở Tư pháp thẩm định',
  },
  'vn.gov.lgsp.payment.completed.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    provinceCode: '51',
    communeCode: '21040',
    paymentRef: 'PAY-250701-0001',
    transactionId: 'TX9876543210',
    amount: 50000,
    paidAt: '2025-07-01T01:45:00Z',
    bankCode: 'VCB',
  },
  'vn.gov.lgsp.payment.failed.v1': {
    dossierCode: '000.00.15.H55-250701-0002',
    provinceCode: '51',
    communeCode: '21040',
    paymentRef: 'PAY-250701-0002',
    failedAt: '2025-07-01T02:00:00Z',
    reason: 'Giao dịch bị từ chối',
  },
  'vn.gov.lgsp.civil-status.registered.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    provinceCode: '51',
    communeCode: '21040',
    registrationType: 'birth',
    registrationNumber: '123/2025',
    registeredAt: '2025-07-03T14:00:00+07:00',
    person: { fullName: 'Nguyễn Minh Đức', dateOfBirth: '2025-06-20', sex: 'male' },
  },
  'vn.gov.lgsp.person.erased.v1': {
    dossierCode: '000.00.15.H55-250701-0001',
    provinceCode: '51',
    communeCode: '21040',
    subjectRef: 'q4Z1kS0yq1m2Vh3Zp0aX9nQfL7cR2tW8uE5yB6dN4oI',
    roles: ['applicant'],
    erasedAt: '2026-01-15T10:00:00+07:00',
    reason: 'request',
    erasureId: 'erasure-example',
  },
};

/**
 * A valid example event of a catalogue type (commune 21040, Xã Bình Sơn, province 51), as a fresh
 * object the caller may change. For tests, demos and documentation.
 */
export function exampleEvent<T extends EventType>(
  type: T,
  id = `example-${EVENT_SCHEMA_NAMES[type]}${EVENT_SCHEMA_VERSIONS[type] === 1 ? '' : `.v${EVENT_SCHEMA_VERSIONS[type]}`}`,
): CloudEvent & { type: T; data: EventDataByType[T] } {
  return {
    specversion: '1.0',
    id,
    source: '/communes/21040',
    type,
    time: '2025-07-01T08:30:05+07:00',
    datacontenttype: 'application/json',
    data: structuredClone(EXAMPLE_DATA[type]),
  };
}
