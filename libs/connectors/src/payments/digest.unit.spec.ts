import { createHash } from 'node:crypto';
import { messageDigest, paymentDigest, signMessage, verifyMessage } from './digest.js';

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('paymentDigest', () => {
  it('is SHA-256 hex of the fields and the secret joined with |', () => {
    expect(paymentDigest(['00', 'REF-1', 50000, 'GD000000000001', 'VCB', '20250701083000'], 's3cret')).toBe(
      sha('00|REF-1|50000|GD000000000001|VCB|20250701083000|s3cret'),
    );
    expect(paymentDigest(['a', undefined, 'c'], 'k')).toBe(sha('a||c|k'));
  });

  it('reads a callback in its documented field order', () => {
    const callback = {
      MaXacThuc: 'ignored',
      ThoiGianGD: '20250701083000',
      MaNganHang: 'VCB',
      MaGiaoDich: 'GD1',
      SoTien: 50000,
      MaThamChieu: 'REF-1',
      MaLoi: '00',
    };
    expect(messageDigest('CALLBACK', callback, 'k')).toBe(sha('00|REF-1|50000|GD1|VCB|20250701083000|k'));
  });

  it('verifies what it signs and rejects a changed field or another secret', () => {
    const signed = signMessage(
      'QUERY',
      { LoaiBanTin: 'QUERY', MaDoiTac: 'H56', MaThamChieu: 'R', ThoiGianGD: '20250701083000' },
      'k',
    );
    expect(verifyMessage('QUERY', signed, 'k')).toBe(true);
    expect(verifyMessage('QUERY', signed, 'other')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaThamChieu: 'S' }, 'k')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaXacThuc: 'zz' }, 'k')).toBe(false);
    expect(verifyMessage('QUERY', { ...signed, MaXacThuc: signed.MaXacThuc.toUpperCase() }, 'k')).toBe(true);
  });
});
