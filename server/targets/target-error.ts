/**
 * Why a target operation failed, as the admin API reports it (card refusals keep their SW).
 * @module
 */

/** Why a target operation failed (card answers keep their SW). */
export class TargetError extends Error {
  override readonly name = 'TargetError';
  constructor(
    readonly code:
      | 'card'
      | 'malformed'
      | 'not-pka'
      | 'invalid'
      | 'duplicate'
      | 'busy'
      | 'locked'
      | 'unavailable'
      | 'inconsistent'
      | 'unknown-target',
    message: string,
    readonly sw?: number,
  ) {
    super(message);
  }
}
