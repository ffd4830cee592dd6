/**
 * Why an enrollment was refused (./enrollment, ./register-at-target).
 * @module
 */

/** Why an enrollment was refused. */
export class EnrollmentError extends Error {
  override readonly name = 'EnrollmentError';
  constructor(
    readonly code:
      | 'bad-token'
      | 'token-used'
      | 'token-expired'
      | 'bad-pka'
      | 'duplicate'
      | 'target-full'
      | 'not-pka'
      | 'unknown-target',
    message: string,
  ) {
    super(message);
  }
}
