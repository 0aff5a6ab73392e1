import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatVn } from '#lgsp/connectors';
import { signMessage } from '#lgsp/connectors';
import { request } from '../../../test/support/sim-http.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('simulators main (a process)', () => {
  it('starts the five simulators on the configured ports and prints one JSON line each', async () => {
    const child = spawn(
      process.execPath,
      ['--import', `${root}test/support/ts-hooks.mjs`, `${root}apps/simulators/src/main.ts`],
      {
        env: {
          ...process.env,
          LGSP_SIM_PORTAL_PORT: '0',
          LGSP_SIM_ONE_STOP_SHOP_PORT: '0',
          LGSP_SIM_CIVIL_REGISTRY_PORT: '0',
          LGSP_SIM_PAYMENTS_PORT: '0',
          LGSP_SIM_DVCLT_PORT: '0',
          LGSP_SIM_PAYMENTS_SECRET: 'from-env',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const lines: { simulator: string; url: string }[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(JSON.parse(line) as { simulator: string; url: string });
        if (lines.length === 5) break;
      }
      expect(lines.map((l) => l.simulator)).toEqual([
        'national-portal',
        'one-stop-shop',
        'civil-registry',
        'payments',
        'dvclt',
      ]);
      for (const { url } of lines) expect((await request(url, 'GET', '/_sim/calls')).status).toBe(200);
      const login = await request(lines[0]!.url, 'POST', '/api/login', {
        username: 'lgsp',
        password: 'lgsp',
      });
      expect(login.body.error_code).toBe(0);
      const init = signMessage(
        'INIT',
        {
          LoaiBanTin: 'INIT',
          PhienBan: '1.0.6',
          MaDoiTac: 'H56',
          MaThamChieu: 'R1',
          SoTien: '1000',
          LoaiHinhThanhToan: 'PAY',
          MaKenhThanhToan: '1',
          MaThietBi: '1',
          NgonNgu: 'vi-VN',
          MaTienTe: 'VND',
          MaNganHang: 'PAYMENT',
          ThongTinGiaoDich: 'Lệ phí',
          ThoiGianGD: formatVn(Date.now(), 'portal'),
          Ip: '127.0.0.1',
          ThongTinBienLai: {
            MaHoSo: 'H56-1',
            PhiLePhi: [],
            DSKhoanNop: [{ NoiDung: 'Lệ phí', SoTien: '1000' }],
          },
        },
        'from-env',
      );
      expect((await request(lines[3]!.url, 'POST', '/api/v1/thanh-toan', init)).body.MaLoi).toBe('00');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
