import { EventConversionError, exampleEvent, type DossierStatusChanged } from '#lgsp/contracts';
import { dossierFacts, oneStopShopFacts, portalFacts } from '#lgsp/connectors';

const SUBMITTED = 'vn.gov.lgsp.dossier.submitted.v1';
const STATUS_CHANGED = 'vn.gov.lgsp.dossier.status-changed.v1';

/** The catalogue's example status change, moved to `status` at `changedAt`, with or without a handler. */
function changed(
  status: number,
  changedAt: string,
  handler?: DossierStatusChanged['handler'],
  note?: string,
) {
  const e = exampleEvent(STATUS_CHANGED);
  Object.assign(e.data, { status, changedAt });
  if (handler === undefined) delete e.data.handler;
  else e.data.handler = handler;
  if (note !== undefined) e.data.note = note;
  return e;
}

describe('dossierFacts', () => {
  it("reads a v2 submission: the applicant's citizen IDs, 12 digits first, the co-applicants left aside", () => {
    const e = exampleEvent('vn.gov.lgsp.dossier.submitted.v2');
    e.data.persons[0]!.documents = [
      { kind: 'passport', number: 'B7654321' },
      { kind: 'legacy-id', number: '123456789' },
      { kind: 'citizen-id', number: '051190000123' },
      { kind: 'vneid', number: '051190000123', level: 2 },
    ];
    const f = portalFacts([e]);
    expect(f).toMatchObject({
      applicantIdNumber: '051190000123',
      applicantIds: ['051190000123', '123456789'],
    });
    expect(f.phone).toBe('0912345678');
    // A v1 submission reads the same way, upcast.
    expect(portalFacts([exampleEvent(SUBMITTED)])).toMatchObject({ applicantIds: ['051190000123'] });
  });

  it('throws a clear error for a submission it cannot read at the newest version', () => {
    const e = exampleEvent(SUBMITTED);
    delete (e.data as Partial<typeof e.data>).applicant;
    expect(() => dossierFacts([e])).toThrow(EventConversionError);
  });

  it('has no facts and empty lists for no events', () => {
    expect(dossierFacts([])).toEqual({ fees: [], progress: [] });
  });

  it('collects the ID, summary and fees (with their codes) of the submission', () => {
    const e = exampleEvent(SUBMITTED);
    e.data.summary = 'Khai sinh cho con';
    expect(dossierFacts([e])).toEqual({
      applicantIdNumber: '051190000123',
      applicantIds: ['051190000123'],
      summary: 'Khai sinh cho con',
      fees: [{ code: 'LP01', name: 'Lệ phí đăng ký khai sinh', amount: 0 }],
      progress: [],
    });
  });

  it('takes a later submission whole: a summary or fees it lacks are gone', () => {
    const first = exampleEvent(SUBMITTED);
    first.data.summary = 'Khai sinh cho con';
    const again = exampleEvent(SUBMITTED);
    delete again.data.fees;
    const f = dossierFacts([first, again]);
    expect(f).not.toHaveProperty('summary');
    expect(f.fees).toEqual([]);
  });

  it('records one progress entry per status change that names its handler, in order, with its note', () => {
    const f = dossierFacts([
      exampleEvent(SUBMITTED),
      changed(2, '2025-07-01T08:40:00+07:00'),
      changed(4, '2025-07-01T09:15:00+07:00', { name: 'Trần Văn Bình', title: 'Công chức' }, 'Thụ lý'),
      changed(9, '2025-07-02T16:00:00+07:00', { name: 'Trần Văn Bình', department: 'Tư pháp' }),
    ]);
    expect(f.progress).toEqual([
      {
        status: 4,
        changedAt: '2025-07-01T09:15:00+07:00',
        handler: { name: 'Trần Văn Bình', title: 'Công chức' },
        note: 'Thụ lý',
      },
      {
        status: 9,
        changedAt: '2025-07-02T16:00:00+07:00',
        handler: { name: 'Trần Văn Bình', department: 'Tư pháp' },
      },
    ]);
    expect(f.progress[1]).not.toHaveProperty('note');
  });

  it('keeps the time of status 10 only while the dossier stays there', () => {
    const returned = [exampleEvent(SUBMITTED), changed(10, '2025-07-03T10:00:00+07:00')];
    expect(dossierFacts(returned).returnedAt).toBe('2025-07-03T10:00:00+07:00');
    expect(dossierFacts([...returned, changed(4, '2025-07-03T11:00:00+07:00')])).not.toHaveProperty(
      'returnedAt',
    );
  });

  it('ignores the other events of the dossier', () => {
    const only = dossierFacts([exampleEvent(SUBMITTED)]);
    const f = dossierFacts([
      exampleEvent(SUBMITTED),
      exampleEvent('vn.gov.lgsp.payment.completed.v1'),
      exampleEvent('vn.gov.lgsp.dossier.transferred.v1'),
    ]);
    expect(f).toEqual(only);
  });

  it('is the fold behind portalFacts and oneStopShopFacts', () => {
    // The portal adds its own facts (field, applicant type, contact…) on top of the same fold.
    const events = [
      exampleEvent(SUBMITTED),
      changed(4, '2025-11-23T03:00:00Z', { name: 'Lê Văn Tám' }),
      changed(10, '2025-11-24T03:00:00Z', { name: 'Lê Văn Tám' }),
    ];
    expect(portalFacts(events)).toMatchObject(dossierFacts(events) as unknown as Record<string, unknown>);
    expect(oneStopShopFacts).toBe(dossierFacts);
  });
});
