import {
  encodeCommandApdu,
  type CommandApdu,
  type ResponseApdu,
} from '../../../../shared/codec/apdu';
import { fromHex, toHex } from '../../../../shared/codec/bytes';
import type { CommandSender } from '../../../../core/sc-hsm/card-io';

/** One expected exchange: the command as hex (prefix match when it ends with '*') and the answer. */
export type Step = { cmd: string; data?: string; sw: number };

/** A channel that checks each command against a script and answers from it. */
export class ScriptedChannel implements CommandSender {
  readonly sent: string[] = [];
  readonly commands: CommandApdu[] = [];
  private i = 0;

  constructor(
    private readonly steps: Step[],
    readonly extendedLength = true,
  ) {}

  async send(cmd: CommandApdu): Promise<ResponseApdu> {
    const enc = encodeCommandApdu(cmd);
    if (!enc.ok) throw new Error(enc.error.message);
    const hex = toHex(enc.value);
    this.sent.push(hex);
    this.commands.push(cmd);
    const step = this.steps[this.i++];
    if (!step) throw new Error(`unexpected command ${hex}`);
    const want = step.cmd.replace(/\s+/g, '').toLowerCase();
    const matches = want.endsWith('*') ? hex.startsWith(want.slice(0, -1)) : hex === want;
    if (!matches) throw new Error(`expected ${want}, got ${hex}`);
    return { data: fromHex(step.data ?? ''), sw: step.sw };
  }

  /** True when every scripted step was used. */
  get done(): boolean {
    return this.i === this.steps.length;
  }
}
