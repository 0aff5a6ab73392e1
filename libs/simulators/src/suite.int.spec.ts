import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from '../../../test/support/sim-http.js';
import { startSimulators } from './suite.js';

const HOST = '127.0.0.1';
const any = { port: 0, host: HOST };

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve((server.address() as AddressInfo).port));
  });
}

describe('startSimulators', () => {
  it('starts the simulators, DVCLT last when asked for, tells where each listens, and configures the payment platform', async () => {
    const urls = new Map<string, string>();
    const suite = await startSimulators({
      portal: any,
      oneStopShop: any,
      civilRegistry: any,
      payments: any,
      interlinked: any,
      paymentConfig: { secret: 'suite-secret', callbackUrl: 'http://127.0.0.1:9/callbacks' },
      started: (simulator, url) => urls.set(simulator, url),
    });
    try {
      expect([...urls.keys()]).toEqual([
        'national-portal',
        'one-stop-shop',
        'civil-registry',
        'payments',
        'dvclt',
      ]);
      const code = await request(urls.get('dvclt')!, 'POST', '/api/CapMaHoSoLT', {
        maHoSoMCDT: '000.00.15.H56-250701-0001',
        maDonVi: '21040',
        maTTHC: '1.001193',
        module: 'LTKS',
      });
      expect(code.body).toMatchObject({ status: '1', value: { maHoSoLT: expect.any(String) } });
      const config = await request(urls.get('payments')!, 'GET', '/_sim/config');
      expect(config.body).toMatchObject({ callbackUrl: 'http://127.0.0.1:9/callbacks' });
      expect(suite.payments.configure({}).secret).toBe('suite-secret');
    } finally {
      await suite.stop();
    }
  });

  it('stops the simulators already started when one cannot listen, and throws its error', async () => {
    const taken = createServer();
    const port = await listen(taken);
    const free = createServer();
    const portalPort = await listen(free);
    await new Promise((resolve) => free.close(resolve));
    try {
      await expect(
        startSimulators({
          portal: { port: portalPort, host: HOST },
          oneStopShop: any,
          civilRegistry: any,
          payments: { port, host: HOST },
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The portal, started first, was stopped again: its port is free.
      const again = createServer();
      await listen(again, portalPort);
      await new Promise((resolve) => again.close(resolve));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
