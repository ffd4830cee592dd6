/**
 * Enrollment: an admin creates a single-use, expiring token for a custodian name at a target;
 * the custodian's client presents it with its `.pka`, the server checks chain and attestation
 * (pka-check) and registers the key at the target (docs/card-reference.md §6.5), and the client receives a
 * session credential. Admins may also register a `.pka` directly (`enroll pka`); the custodian
 * then enrolls with a token bound to that registration and the same `.pka`.
 * @module
 */
import { bytesEqual } from '../../shared/codec/bytes';
import type { TrustAnchor } from '../../shared/cvc/chain';
import type { Custodian } from '../store/custodians';
import { hashSecret, isWellFormedSecret, newId, newSecret } from '../store/secrets';
import type { Store } from '../store/store';
import type { TargetService } from '../targets/target-service';
import { EnrollmentError } from './enrollment-error';
import { checkPka, type CheckedPka } from './pka-check';
import { messageOf } from '../../shared/error-message';
import { refuseDuplicates, registerAtTarget } from './register-at-target';

export { EnrollmentError } from './enrollment-error';

/** Default token lifetime: 7 days. */
export const DEFAULT_TOKEN_SECONDS = 7 * 86_400;

/** Enrollment operations. */
export class Enrollment {
  constructor(
    private readonly store: Store,
    private readonly targets: ReadonlyMap<string, TargetService>,
    private readonly anchors: () => readonly TrustAnchor[],
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private get ctx() {
    return { store: this.store, clock: this.clock };
  }

  private target(name: string): TargetService {
    const t = this.targets.get(name);
    if (!t) throw new EnrollmentError('unknown-target', `unknown target "${name}"`);
    return t;
  }

  /** Creates an enrollment token; the token itself is returned once and stored only hashed. */
  createToken(target: string, name: string, seconds = DEFAULT_TOKEN_SECONDS, custodianId?: string) {
    this.target(target);
    if (custodianId === undefined && this.store.custodians.byName(target, name)) {
      throw new EnrollmentError(
        'duplicate',
        `custodian "${name}" is already enrolled at ${target}`,
      );
    }
    const token = newSecret();
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
    this.store.enrollments.insert({
      tokenHash: hashSecret(token),
      target,
      name,
      ...(custodianId === undefined ? {} : { custodianId }),
      createdAt: now.toISOString(),
      expiresAt,
    });
    this.store.audit.append('enrollment-token-created', { target, name, expiresAt });
    return { token, expiresAt };
  }

  private check(pka: Uint8Array): CheckedPka {
    const r = checkPka(pka, this.anchors(), this.clock());
    if (!r.ok) throw new EnrollmentError('bad-pka', r.error.message);
    return r.value;
  }

  /** Admin-side registration of a `.pka` (`enroll pka`): checks, registers, records. */
  async registerPka(target: string, name: string, pka: Uint8Array): Promise<Custodian> {
    const t = this.target(target);
    let checked: CheckedPka;
    try {
      checked = this.check(pka);
    } catch (e) {
      this.store.audit.append('enrollment-refused', { target, name, reason: messageOf(e) });
      throw e;
    }
    refuseDuplicates(this.store, target, name, checked.key.chr);
    const id = newId('cus');
    const record = () =>
      this.store.custodians.insert({
        id,
        name,
        target,
        keyChr: checked.key.chr,
        pka,
        enrolledAt: this.clock().toISOString(),
      });
    await registerAtTarget(this.ctx, t, checked, name, record, { mayHaveRegistered: false });
    this.store.audit.append('custodian-registered', {
      target,
      name,
      custodianId: id,
      keyChr: checked.key.chr,
      device: checked.path,
      by: 'admin',
    });
    return this.store.custodians.get(id)!;
  }

  /** Refuses (through `fail`, which audits) a token that EnrollmentStore.reserve did not give. */
  private refuseUnreserved(
    r: ReturnType<Store['enrollments']['reserve']>,
    fail: (e: EnrollmentError) => never,
  ): void {
    if (r === 'used') fail(new EnrollmentError('token-used', 'enrollment token already used'));
    if (r === 'expired') fail(new EnrollmentError('token-expired', 'enrollment token expired'));
    if (r === 'unknown') fail(new EnrollmentError('bad-token', 'unknown enrollment token'));
  }

  /**
   * Enrollment by a connecting client. Refuses unknown, used or expired tokens; checks the
   * `.pka`; registers the key at the target (unless an admin already did, in which case the
   * `.pka` must be the registered one); returns the custodian and its new credential.
   */
  async enrollWithToken(
    token: string,
    pka: Uint8Array,
    keyId: number,
  ): Promise<{ custodian: Custodian; credential: string }> {
    if (!isWellFormedSecret(token))
      throw new EnrollmentError('bad-token', 'unknown enrollment token');
    const tokenHash = hashSecret(token);
    const row = this.store.enrollments.get(tokenHash);
    if (!row) throw new EnrollmentError('bad-token', 'unknown enrollment token');
    const fail = (e: EnrollmentError): never => {
      this.store.audit.append('enrollment-refused', {
        target: row.target,
        name: row.name,
        reason: e.message,
      });
      throw e;
    };
    if (row.usedAt !== undefined)
      fail(new EnrollmentError('token-used', 'enrollment token already used'));
    if (Date.parse(row.expiresAt) <= this.clock().getTime()) {
      fail(new EnrollmentError('token-expired', 'enrollment token expired'));
    }
    let checked: CheckedPka;
    try {
      checked = this.check(pka);
    } catch (e) {
      return fail(e as EnrollmentError);
    }
    const credential = newSecret();
    const now = this.clock().toISOString();
    let id: string;
    if (row.custodianId !== undefined) {
      const existing = this.store.custodians.get(row.custodianId);
      if (!existing || !bytesEqual(existing.pka, pka)) {
        return fail(
          new EnrollmentError('bad-pka', 'this .pka is not the one the administrator registered'),
        );
      }
      id = existing.id;
      // No card step here: consuming the token and setting the credential are one transaction.
      const reserved = this.store.atomically(() => {
        const r = this.store.enrollments.reserve(tokenHash, now);
        if (r === 'reserved')
          this.store.custodians.setCredential(id, hashSecret(credential), keyId);
        return r;
      });
      this.refuseUnreserved(reserved, fail);
    } else {
      const t = this.target(row.target);
      try {
        refuseDuplicates(this.store, row.target, row.name, checked.key.chr);
      } catch (e) {
        return fail(e as EnrollmentError);
      }
      // Issue 7 item 1: the token is consumed before any APDU goes to the target, so a second
      // enrollment with it is refused here and never reaches the card.
      this.refuseUnreserved(this.store.enrollments.reserve(tokenHash, now), fail);
      id = newId('cus');
      const record = () =>
        this.store.atomically(() => {
          refuseDuplicates(this.store, row.target, row.name, checked.key.chr);
          this.store.custodians.insert({
            id,
            name: row.name,
            target: row.target,
            keyChr: checked.key.chr,
            pka,
            credentialHash: hashSecret(credential),
            keyId,
            enrolledAt: now,
          });
        });
      const progress = { mayHaveRegistered: false };
      try {
        await registerAtTarget(this.ctx, t, checked, row.name, record, progress);
      } catch (e) {
        // Nothing reached the card: the token may be used again (e.g. after 1011).
        if (!progress.mayHaveRegistered) this.store.enrollments.release(tokenHash, now);
        if (e instanceof EnrollmentError) return fail(e);
        throw e;
      }
    }
    const custodian = this.store.custodians.get(id)!;
    this.store.audit.append('enrollment-completed', {
      target: custodian.target,
      name: custodian.name,
      custodianId: id,
      keyChr: custodian.keyChr,
      keyId,
      device: checked.path,
    });
    return { custodian, credential };
  }
}
