import { ConnectorError } from '../core/errors.js';
import { DvcltClient } from './dvclt-client.js';
import type { DvcltCodeRequest, DvcltStatusReport } from './external/civil-registry-wire.js';

/** A DVCLT that answers every call with `body` and `status`. */
const answering = (status: number, body: unknown): typeof fetch =>
  (async () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    })) as typeof fetch;

const REPORT: DvcltStatusReport = {
  maHoSoLT: 'LT1',
  trangThai: 7,
  coQuanXuLy: 5,
  thoiGian: '20251123091500',
};
const CODE_REQUEST: DvcltCodeRequest = {
  maHoSoMCDT: '000.00.51.H56-251123-0001',
  maDonVi: '21040',
  maTTHC: '1.001193',
  module: 'LTKS',
};

describe('DvcltClient', () => {
  it('turns a refusal into a data error whose reason names no citizen ID', async () => {
    const client = new DvcltClient({
      baseUrl: 'http://dvclt.test',
      fetch: answering(200, {
        status: '0',
        errorCode: 'E01',
        errorDescription: 'CCCD 051190001234 không khớp',
      }),
    });
    const error = await client.report(REPORT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).message).toContain('dvclt refused CapNhatTrangThai (E01)');
    expect((error as ConnectorError).message).not.toContain('051190001234');
  });

  it('redacts the reason of an HTTP error too', async () => {
    const client = new DvcltClient({
      baseUrl: 'http://dvclt.test',
      fetch: answering(400, { status: '0', errorDescription: 'số định danh 051190001234 sai' }),
    });
    const error = await client.report(REPORT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).message).not.toContain('051190001234');
  });

  it('refuses an answer without an interlinked code', async () => {
    const client = new DvcltClient({
      baseUrl: 'http://dvclt.test',
      fetch: answering(200, { status: '1', value: {} }),
    });
    await expect(client.issueCode(CODE_REQUEST)).rejects.toThrow(/without an interlinked code/);
  });
});
