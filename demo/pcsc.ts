/** placeholder */
import type { TestCa } from '../emulator/ca/test-ca';
import type { Hardware } from './hardware';
/** x */
export async function pcscHardware(_ca: TestCa, _say: (line: string) => void): Promise<Hardware> {
  throw new Error('not yet');
}
