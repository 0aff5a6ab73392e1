/**
 * The payment platform as the demo, playing the citizens, acts on it: a citizen who will never pay
 * a fee. The real platform has no such call (a citizen simply does not pay); its simulator takes
 * `POST /_sim/payments/abandon`, and leaves exactly those payments pending.
 */
export interface PaymentSandbox {
  /** The citizen will never pay `paymentRef` (`MaThamChieu`): the platform must leave it pending. */
  abandon(paymentRef: string): Promise<void>;
}

/** The payment platform's sandbox could not be told; the message says what to do. */
export class PaymentSandboxError extends Error {
  override readonly name = 'PaymentSandboxError';
}

/** The payment platform simulator at `url` (`npm start` runs it in the hub process, on port 4104). */
export class PaymentPlatformSandbox implements PaymentSandbox {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async abandon(paymentRef: string): Promise<void> {
    const hint =
      'give --payment-platform the URL of the payment platform simulator the hub uses, or play no abandoned payment (--mix payment-abandoned=0)';
    let res: Response;
    try {
      res = await fetch(new URL('/_sim/payments/abandon', this.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ MaThamChieu: paymentRef }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new PaymentSandboxError(
        `cannot tell the payment platform simulator at ${this.url} that payment ${paymentRef} is abandoned (${e instanceof Error ? e.message : String(e)}): ${hint}`,
      );
    }
    if (!res.ok) {
      const body = (await res.text()).slice(0, 300);
      throw new PaymentSandboxError(
        `the payment platform simulator at ${this.url} refused to leave payment ${paymentRef} pending: ${res.status} ${body}; ${hint}`,
      );
    }
  }
}
