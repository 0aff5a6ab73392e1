import type { CloudEvent } from './cloudevent.js';
import { exampleEvent } from './examples.js';
import { messageVi } from './messages-vi.js';
import { EventValidator } from './validate.js';

describe('messageVi', () => {
  it('translates a fixed message and a template, copying the interpolated parts', () => {
    expect(messageVi('batch is empty')).toBe('lô rỗng');
    expect(messageVi('no reconciliation run rc-0a1b2c')).toBe('không có lần đối soát rc-0a1b2c');
    expect(messageVi('stream dossier-A is at version 3, expected 2')).toBe(
      'luồng dossier-A đang ở phiên bản 3, yêu cầu mong đợi 2',
    );
  });

  it('lets the Vietnamese reorder the parts, and translates the states and actions they quote', () => {
    expect(messageVi('finding 3 was captured already by ops-1')).toBe(
      'phát hiện 3 đã được ops-1 thu nhận trước đó',
    );
    expect(messageVi('replay 0b6f-1 is completed: it cannot pause')).toBe(
      'lần phát lại 0b6f-1 đang ở trạng thái hoàn tất: không thể tạm dừng',
    );
  });

  it('translates a part that is itself a message of the catalogue, and keeps any other part', () => {
    expect(messageVi('the body is empty; it must hold one CloudEvent (a JSON object)')).toBe(
      'thân yêu cầu rỗng; nó phải chứa một CloudEvent (một đối tượng JSON)',
    );
    expect(messageVi('the event store at /data/x is open read-only: it cannot save a checkpoint')).toBe(
      'kho sự kiện tại /data/x đang mở ở chế độ chỉ đọc: không thể lưu điểm kiểm tra (checkpoint)',
    );
  });

  it("prefers the most specific entry: the hub's words before a driver's message", () => {
    expect(messageVi('cannot read the global log: connect ECONNREFUSED')).toBe(
      'không đọc được nhật ký toàn cục: connect ECONNREFUSED',
    );
    expect(messageVi('SoTien: expected a whole amount in VND')).toBe(
      'SoTien: cần một số tiền nguyên theo VND',
    );
  });

  it('gives nothing for a text it does not know, rather than a half translation', () => {
    expect(messageVi('something nobody wrote')).toBeUndefined();
    expect(messageVi('x'.repeat(5_000))).toBeUndefined();
  });

  it("translates every issue ajv's schemas give (ajv-i18n is not installed)", () => {
    const event = exampleEvent('vn.gov.lgsp.dossier.submitted.v1');
    const data: Record<string, unknown> = {
      ...event.data,
      provinceCode: '123',
      channel: 'fax',
      applicant: { fullName: 7, idNumber: '12' },
      receivedAt: '2025-07-01 08:00',
      fees: [{ amount: -1 }],
      extra: true,
    };
    delete data['procedureCode'];
    const issues = new EventValidator().validate([{ ...event, data } as CloudEvent], { single: true });
    expect(issues.length).toBeGreaterThan(5);
    for (const issue of issues)
      expect([issue.message, messageVi(issue.message)]).toEqual([issue.message, expect.any(String)]);
  });
});
