import { execFileSync } from 'node:child_process';
import { DIGEST_FIELDS, messageDigest, paymentDigest, signMessage, verifyMessage } from './digest.js';

/**
 * The reference: the shell's `sha256sum` over the text written out by hand, independent of the
 * project's digest function (`printf '%s'` writes the text as given, UTF-8, no newline).
 */
function sha256sum(text: string): string {
  const out = execFileSync('sh', ['-c', 'printf "%s" "$1" | sha256sum', 'sh', text], { encoding: 'utf8' });
  return out.split(' ')[0]!;
}

const SECRET = 'k3y-bí-mật';

describe('MaXacThuc vectors checked with sha256sum', () => {
  it('INIT: 14 fields in the platform order, then the secret', () => {
    const init = {
      ThongTinBienLai: { MaHoSo: 'H56-1' },
      Ip: '10.0.0.7',
      ThoiGianGD: '20251124000509',
      ThongTinGiaoDich: 'Thanh toán phí, lệ phí hồ sơ H56-1',
      MaNganHang: 'PAYMENT',
      MaTienTe: 'VND',
      NgonNgu: 'vi-VN',
      MaThietBi: '1',
      MaKenhThanhToan: '1',
      LoaiHinhThanhToan: 'PAY',
      SoTien: '50000',
      MaThamChieu: 'H56ZH1ZT1',
      MaDoiTac: 'H51',
      PhienBan: '1.0.6',
      LoaiBanTin: 'INIT',
    };
    const text =
      'INIT|1.0.6|H51|H56ZH1ZT1|50000|PAY|1|1|vi-VN|VND|PAYMENT|Thanh toán phí, lệ phí hồ sơ H56-1|20251124000509|10.0.0.7|k3y-bí-mật';
    expect(messageDigest('INIT', init, SECRET)).toBe(sha256sum(text));
    expect(signMessage('INIT', init, SECRET).MaXacThuc).toBe(sha256sum(text));
  });

  it('QUERY and GET_BILL: LoaiBanTin, PhienBan, MaDoiTac, MaThamChieu, the INIT’s ThoiGianGD', () => {
    for (const kind of ['QUERY', 'GET_BILL'] as const) {
      const message = {
        ThoiGianGD: '20251124000509',
        MaThamChieu: 'H56ZH1ZT1',
        MaDoiTac: 'H51',
        PhienBan: '1.0.6',
        LoaiBanTin: kind,
      };
      expect(messageDigest(kind, message, SECRET)).toBe(
        sha256sum(`${kind}|1.0.6|H51|H56ZH1ZT1|20251124000509|k3y-bí-mật`),
      );
    }
  });

  it('callback: LoaiBanTin, MaLoi, MaDoiTac, MaThamChieu, SoTien, MaTienTe, MaGiaoDich, MaNganHang, ThoiGianGD, ThongTinGiaoDich', () => {
    const callback = {
      MaXacThuc: 'ignored',
      ThongTinGiaoDich: 'Thanh toán',
      ThoiGianGD: '20251124083000',
      MaNganHang: 'VCB',
      MaGiaoDich: 'GD000000000001',
      MaTienTe: 'VND',
      SoTien: 50000,
      MaThamChieu: 'H56ZH1ZT1',
      MaDoiTac: 'H51',
      MaLoi: '00',
      LoaiBanTin: 'CONFIRM',
    };
    const text = 'CONFIRM|00|H51|H56ZH1ZT1|50000|VND|GD000000000001|VCB|20251124083000|Thanh toán|k3y-bí-mật';
    expect(messageDigest('CALLBACK', callback, SECRET)).toBe(sha256sum(text));
    expect(verifyMessage('CALLBACK', { ...callback, MaXacThuc: sha256sum(text) }, SECRET)).toBe(true);
  });

  it('callback answer: MaLoi, MaDoiTac, MaThamChieu, ThoiGianGD (MoTaLoi not signed)', () => {
    const answer = {
      MaLoi: '99',
      MoTaLoi: 'SoTien: bad',
      MaDoiTac: 'H51',
      MaThamChieu: 'H56ZH1ZT1',
      ThoiGianGD: '20251124083000',
    };
    expect(messageDigest('CALLBACK_ANSWER', answer, SECRET)).toBe(
      sha256sum('99|H51|H56ZH1ZT1|20251124083000|k3y-bí-mật'),
    );
  });

  it('an old field order does not verify against the platform order', () => {
    const callback = {
      LoaiBanTin: 'CONFIRM',
      MaLoi: '00',
      MaDoiTac: 'H51',
      MaThamChieu: 'R1',
      SoTien: 50000,
      MaTienTe: 'VND',
      MaGiaoDich: 'GD1',
      MaNganHang: 'VCB',
      ThoiGianGD: '20251124083000',
      ThongTinGiaoDich: '',
    };
    const oldOrder = sha256sum('00|R1|50000|GD1|VCB|20251124083000|k3y-bí-mật');
    expect(verifyMessage('CALLBACK', { ...callback, MaXacThuc: oldOrder }, SECRET)).toBe(false);
    expect(DIGEST_FIELDS.CALLBACK).toHaveLength(10);
  });
});

describe('paymentDigest', () => {
  it('writes a missing field as the empty string between its pipes', () => {
    expect(paymentDigest(['a', undefined, 'c'], 'k')).toBe(sha256sum('a||c|k'));
  });

  it('verifies what it signs and rejects a changed field or another secret', () => {
    const signed = signMessage(
      'QUERY',
      {
        LoaiBanTin: 'QUERY',
        PhienBan: '1.0.6',
        MaDoiTac: 'H56',
        MaThamChieu: 'R',
        ThoiGianGD: '20250701083000',
      },
      'k',
    );
    expect(verifyMessage('QUERY', signed, 'k')).toBe(true);
    expect(verifyMessage('QUERY', signed, 'other')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaThamChieu: 'S' }, 'k')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, PhienBan: '1.0.5' }, 'k')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaXacThuc: 'zz' }, 'k')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaXacThuc: signed.MaXacThuc.toUpperCase() }, 'k')).toBe(true);
  });
});
