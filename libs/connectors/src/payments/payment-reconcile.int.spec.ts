import { expectedDossiers, type Mismatch } from '#lgsp/reconciliation';
import { request } from '../../../../test/support/sim-http.js';
import { PaymentReconciler } from './payment-reconciler.js';
import {
  callbacks,
  client,
  connector,
  feeDue,
  newCode,
  paymentEvents,
  ref,
  sim,
  simUrl,
  store,
} from './payment-flow.testing.js';

/** The mismatches of the payments of `codes` only (the spec file's store holds other tests' dossiers). */
async function reconcile(codes: readonly string[]): Promise<Mismatch[]> {
  const { dossiers } = await expectedDossiers(store, { dossiers: [...codes] });
  const reconciler = new PaymentReconciler({ client: client(), concurrency: 2, chunkSize: 2 });
  const found: Mismatch[] = [];
  const context = { scanned: () => undefined, compared: () => undefined, clock: { now: () => Date.now() } };
  for await (const batch of reconciler.reconcile(dossiers, {}, context)) found.push(...batch);
  return found;
}

const lines = (mismatches: readonly Mismatch[]): string[] =>
  mismatches.map((m) => `${m.dossier} ${m.field} ${m.category}`).sort();

describe('payments reconciliation and replay against the platform simulator', () => {
  it('finds payments tampered behind the hub’s back, and a replay opens a lost one again with the same INIT', async () => {
    sim.configure({ outcomes: { pending: 1 }, resolveAfterMs: null });
    const c = [newCode(), newCode(), newCode(), newCode()];
    const { connector: payments } = connector();
    for (const code of c) {
      await feeDue(code);
      await payments.replay(code, 'first-delivery');
    }
    // c[0..2] paid and captured by their callbacks; c[3] still pending on both sides.
    for (const code of c.slice(0, 3)) sim.resolve(ref(code), 1);
    await callbacks(3);
    for (const code of c.slice(0, 3)) expect(await paymentEvents(code)).toHaveLength(1);
    expect(await reconcile(c)).toEqual([]);

    const tamper = async (body: Record<string, unknown>) => {
      const res = await request(simUrl, 'POST', '/_sim/tamper', body);
      expect(res.status).toBe(200);
    };
    await tamper({ MaThamChieu: ref(c[0]!), set: { TrangThaiGD: 4 } });
    await tamper({ MaThamChieu: ref(c[1]!), set: { SoTien: 49_000 } });
    await tamper({ MaThamChieu: ref(c[2]!), set: { TrangThaiGD: 3 } });
    const opened = sim.state().payments.find((p) => p.MaThamChieu === ref(c[3]!))!;
    await tamper({ MaThamChieu: ref(c[3]!), delete: true });

    const found = await reconcile(c);
    expect(lines(found)).toEqual(
      [
        `${c[0]} TrangThaiGD wrong-field`,
        `${c[1]} SoTien wrong-field`,
        `${c[2]} TrangThaiGD stale-status`,
        `${c[3]} * missing-in-target`,
      ].sort(),
    );
    expect(found.find((m) => m.dossier === c[1])).toMatchObject({
      system: 'payments',
      expected: 50_000,
      actual: 49_000,
    });
    expect(found.find((m) => m.dossier === c[3])).toMatchObject({
      expected: { MaThamChieu: ref(c[3]!) },
      actual: null,
    });

    // The replay of the lost one (what `lgsp replay run --target payments` does per dossier) sends
    // the same INIT, timed at the fee request, so the platform holds the transaction again.
    await payments.replay(c[3]!, 'repair');
    const reopened = sim.state().payments.find((p) => p.MaThamChieu === ref(c[3]!));
    expect(reopened).toMatchObject({
      SoTien: opened.SoTien,
      ThoiGianKhoiTao: opened.ThoiGianKhoiTao,
      TrangThaiGD: 3,
    });
    // Replaying a paid dossier opens nothing: its result is in the log, and the platform is the
    // authority on money, so a contradicted result stays a mismatch for an operator.
    const before = sim.state().payments.length;
    await payments.replay(c[0]!, 'repair');
    expect(sim.state().payments).toHaveLength(before);
    expect(lines(await reconcile(c))).toEqual(
      [
        `${c[0]} TrangThaiGD wrong-field`,
        `${c[1]} SoTien wrong-field`,
        `${c[2]} TrangThaiGD stale-status`,
      ].sort(),
    );
  });
});
