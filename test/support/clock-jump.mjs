// Preloaded into a hub process (`node --import`) by the fault suite: the process's wall clock (Date,
// Date.now) runs at the offset, in milliseconds, written in the file LGSP_TEST_CLOCK_OFFSET_FILE,
// read every 20 ms; writing another number makes the clock jump, as an NTP step would. The monotonic
// clock (performance.now, timers) is left alone, as the kernel leaves it.
import { readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const file = process.env.LGSP_TEST_CLOCK_OFFSET_FILE;
if (file) {
  let offset = 0;
  const read = () => {
    try {
      const n = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(n)) offset = n;
    } catch {
      // not written yet: no offset
    }
  };
  read();
  setInterval(read, 20).unref();
  const RealDate = Date;
  class JumpingDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = JumpingDate;
}
