/**
 * The life of one offer on the custodian's side, as a pure state machine. Only `pending`
 * offers can be approved; an approval that stops before the script ran (wrong PIN, last try
 * not confirmed, PIN entry cancelled) returns to `pending` and is never retried on its own.
 * @module
 */
import { err, ok, type Result } from '../../shared/result';

/** Where an offer stands. */
export type CeremonyPhase =
  'pending' | 'approving' | 'approved' | 'declined' | 'rejected' | 'expired' | 'ended';

/** What can happen to an offer. */
export type CeremonyEvent =
  'approve' | 'approval-aborted' | 'approval-done' | 'decline' | 'reject' | 'expire' | 'end';

const TRANSITIONS: Readonly<Record<CeremonyPhase, Partial<Record<CeremonyEvent, CeremonyPhase>>>> =
  {
    pending: {
      approve: 'approving',
      decline: 'declined',
      reject: 'rejected',
      expire: 'expired',
      end: 'ended',
    },
    approving: {
      'approval-aborted': 'pending',
      'approval-done': 'approved',
      decline: 'declined',
      expire: 'expired',
      end: 'ended',
    },
    approved: { end: 'ended', expire: 'ended' },
    declined: { end: 'ended', expire: 'ended' },
    rejected: {},
    expired: {},
    ended: {},
  };

/** A refused transition. */
export type TransitionError = {
  readonly from: CeremonyPhase;
  readonly event: CeremonyEvent;
  readonly message: string;
};

/** The next phase, or an error when `event` is not allowed in `from`. */
export function transition(
  from: CeremonyPhase,
  event: CeremonyEvent,
): Result<CeremonyPhase, TransitionError> {
  const to = TRANSITIONS[from][event];
  if (to === undefined)
    return err({ from, event, message: `cannot ${event} an offer that is ${from}` });
  return ok(to);
}

/** True while the offer may still change the card (approval allowed or running). */
export function isOpen(phase: CeremonyPhase): boolean {
  return phase === 'pending' || phase === 'approving';
}
