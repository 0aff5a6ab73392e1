/**
 * The fault suite's verdicts (`npm run test:faults`): each fault prints what was injected, what was
 * checked and the result, whatever happens, then the spec fails when a check did.
 *
 * `LGSP_FAULTS_DISABLE_RECOVERY` (a comma-separated list of fault names, or `all`) turns off, in the
 * harness, the mechanism a fault relies on to recover, to show that the fault's checks then fail.
 */

/** True when the recovery mechanism of `fault` is to be disabled for this run. */
export function recoveryDisabled(fault: string): boolean {
  const list = (process.env.LGSP_FAULTS_DISABLE_RECOVERY ?? '').split(',').map((s) => s.trim());
  return list.includes('all') || list.includes(fault);
}

/** A number from the environment (a scale knob of the suite), or `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number, got ${raw}`);
  return n;
}

export interface FaultCheck {
  what: string;
  passed: boolean;
  detail: string;
}

export class FaultVerdict {
  readonly injected: string[] = [];
  readonly checks: FaultCheck[] = [];
  private readonly started = performance.now();

  constructor(readonly fault: string) {}

  /** Records what was done to the system. */
  inject(what: string): void {
    this.injected.push(what);
  }

  /** Records one check and its evidence; returns whether it passed. */
  check(what: string, passed: boolean, detail: string): boolean {
    this.checks.push({ what, passed, detail });
    return passed;
  }

  get failed(): FaultCheck[] {
    return this.checks.filter((c) => !c.passed);
  }

  /** The printed block: one line per injection and per check, then the result. */
  render(error?: unknown): string {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const disabled = recoveryDisabled(this.fault) ? ' [recovery disabled]' : '';
    const lines = [`FAULT ${this.fault}${disabled}`];
    for (const i of this.injected) lines.push(`  injected: ${i}`);
    for (const c of this.checks)
      lines.push(`  checked:  ${c.what}: ${c.passed ? 'ok' : 'FAILED'} (${c.detail})`);
    let result: string;
    if (error !== undefined) result = `ERROR ${error instanceof Error ? error.message : String(error)}`;
    else if (this.checks.length === 0) result = 'ERROR nothing was checked';
    else if (this.failed.length > 0)
      result = `FAIL ${this.failed.length} of ${this.checks.length} checks failed`;
    else result = `PASS ${this.checks.length} checks`;
    lines.push(`  result:   ${result} in ${seconds} s`);
    return `${lines.join('\n')}\n`;
  }
}

/**
 * Runs one fault: `body` injects and checks through the verdict; the verdict is printed (straight to
 * stdout, not through jest's console) even when `body` throws, then the run fails if anything did.
 */
export async function runFault(fault: string, body: (v: FaultVerdict) => Promise<void>): Promise<void> {
  const verdict = new FaultVerdict(fault);
  let error: unknown;
  try {
    await body(verdict);
  } catch (err) {
    error = err;
  }
  process.stdout.write(`\n${verdict.render(error)}`);
  if (error !== undefined) throw error;
  if (verdict.checks.length === 0) throw new Error(`${fault}: nothing was checked`);
  const failed = verdict.failed.map((c) => `${c.what}: ${c.detail}`);
  if (failed.length > 0) throw new Error(`${fault} failed:\n${failed.join('\n')}`);
}
