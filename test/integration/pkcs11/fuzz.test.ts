/**
 * The module's reply parser and framing under hostile input: the C fuzz harness
 * (pkcs11/test/fuzz-reply.c, built with ASan/UBSan by `npm run build:pkcs11`) feeds random and
 * mutated replies, and whole frames through a socket pair, for a bounded number of iterations
 * per seed. Any memory error or undefined behaviour aborts the harness and fails this test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModule, MODULE, run } from './world';

describe('module reply parser fuzzing (ASan/UBSan)', () => {
  beforeAll(() => buildModule(), 120_000);

  for (const seed of ['1', '20261207', '424242']) {
    it(`survives 20,000 hostile replies (seed ${seed})`, async () => {
      const r = await run(MODULE.fuzz, ['20000', seed], {
        ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1',
        UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const m = /fuzz-reply: 20000 iterations, (\d+) accepted/.exec(r.out);
      expect(m).not.toBeNull();
      // Both paths ran: some mutated replies stay well-formed, most are refused.
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(Number(m![1])).toBeLessThan(20000);
    }, 180_000);
  }
});
