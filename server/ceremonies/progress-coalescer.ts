/**
 * Coalesces a ceremony's progress updates per event-loop turn (issue 12 §3): when k approvals of
 * one target are processed in the same turn, every custodian of that target gets ONE `update`
 * carrying the state after all k, instead of k updates each (k × m messages and k × m progress
 * reads). The update is built when it is sent, so it always carries the latest state: the last
 * change is never lost, only the intermediate ones are skipped.
 *
 * Only progress within one phase is held back. An update in a new phase — the ceremony opened,
 * was re-opened in a new epoch, reached quorum or ended (completed, expired, cancelled, failed)
 * — and any update of a ceremony that is not open go out at once, together with (and
 * superseding) whatever progress was waiting for the same ceremony.
 * @module
 */

/** How the coalescer reaches the broadcast it protects. */
export type CoalescerPort = {
  /** Sends the ceremony's current state now, with the (joined) messages, to everyone. */
  send(ceremonyId: string, message: string | undefined): void;
  /**
   * The ceremony's phase now (e.g. state and epoch) and whether it is open; undefined when it
   * is gone. A phase other than the last one sent, or a ceremony that is not open, is urgent.
   */
  phase(ceremonyId: string): { readonly key: string; readonly open: boolean } | undefined;
  /** A deferred send threw (it runs from a timer: reported here, never thrown). */
  failed(ceremonyId: string, e: unknown): void;
};

/** Messages longer than this are cut by the update encoder anyway (context.ts). */
const MAX_JOINED = 500;

/** Holds progress updates until the end of the turn; see the module comment. */
export class ProgressCoalescer {
  /** ceremonyId → messages waiting, in order (undefined entries carry no text). */
  private readonly pending = new Map<string, (string | undefined)[]>();
  private scheduled = false;
  /** ceremonyId → the phase of the last update sent, for open ceremonies. */
  private readonly sentPhase = new Map<string, string>();

  constructor(
    private readonly port: CoalescerPort,
    /** Runs the flush after the current turn's I/O callbacks (default `setImmediate`). */
    private readonly schedule: (flush: () => void) => void = (f) => void setImmediate(f),
  ) {}

  /** Announces a change of ceremony `id`, with an optional human-readable message. */
  post(id: string, message?: string): void {
    const waiting = this.pending.get(id) ?? [];
    waiting.push(message);
    const phase = this.port.phase(id);
    if (!phase || !phase.open || this.sentPhase.get(id) !== phase.key) {
      this.pending.delete(id);
      if (phase?.open) this.sentPhase.set(id, phase.key);
      else this.sentPhase.delete(id);
      this.port.send(id, joined(waiting));
      return;
    }
    this.pending.set(id, waiting);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Sends every waiting update now (what the scheduled flush runs). */
  flush(): void {
    this.scheduled = false;
    const all = [...this.pending];
    this.pending.clear();
    for (const [id, messages] of all) {
      try {
        this.port.send(id, joined(messages));
      } catch (e) {
        // One ceremony's failing broadcast (e.g. its store read) must not stop the others.
        this.port.failed(id, e);
      }
    }
  }
}

/** The messages of one turn, in order, as one line (undefined when none had text). */
function joined(messages: readonly (string | undefined)[]): string | undefined {
  const texts = messages.filter((m): m is string => m !== undefined && m !== '');
  if (texts.length === 0) return undefined;
  const line = texts.join('; ');
  return line.length > MAX_JOINED ? `${line.slice(0, MAX_JOINED - 1)}…` : line;
}
