/**
 * Preloaded into a child process (`node --import tsx --import ./test/sequences/child-clock.ts
 * src/main.ts`): when COLDBATCH_TEST_NOW is set (epoch ms), the process's clock starts at that
 * instant and runs at real speed, so a real process can be started on a given business day.
 */
const start = Number(process.env.COLDBATCH_TEST_NOW);
if (Number.isFinite(start) && start > 0) {
  const Real = Date;
  const offset = start - Real.now();
  const now = () => Real.now() + offset;
  class Shifted extends Real {
    constructor(...args: [] | [string | number | Date]) {
      if (args.length === 0) super(now());
      else super(...args);
    }
    static override now(): number {
      return now();
    }
  }
  globalThis.Date = Shifted as DateConstructor;
}
