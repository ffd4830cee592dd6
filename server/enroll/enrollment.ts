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
import { PkaError } from '../../core/sc-hsm/pka-target';
import { CardStatusError } from '../../shared/card/status-words';
import type { TargetService } from '../targets/target-service';
import { checkPka, type CheckedPka } from './pka-check';

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

  /** Registers the checked key at the target card (inside the target's queue). */
  private async registerAtTarget(target: TargetService, checked: CheckedPka, then: () => void) {
    await target.run(async (card) => {
      const status = await card.pkaStatus();
      if (!status)
        throw new EnrollmentError('not-pka', `target ${target.name} is not set up for PKA`);
      if (status.missing === 0) {
        throw new EnrollmentError(
          'target-full',
          `all ${status.m} keys of target ${target.name} are registered`,
        );
      }
      const { file } = checked;
      try {
        await card.registerPublicKey({
          request: file.request,
          device: file.device,
          dica: file.dica,
        });
      } catch (e) {
        // A refusal by the card is final for this .pka; transport problems stay what they are.
        if (e instanceof CardStatusError || e instanceof PkaError) {
          throw new EnrollmentError('bad-pka', `target refused the key: ${e.message}`);
        }
        throw e;
      }
      then();
    });
  }

  private refuseDuplicates(target: string, name: string, keyChr: string): void {
    if (this.store.custodians.byName(target, name)) {
      throw new EnrollmentError(
        'duplicate',
        `custodian "${name}" is already enrolled at ${target}`,
      );
    }
    if (this.store.custodians.byKeyChr(target, keyChr)) {
      throw new EnrollmentError('duplicate', `key ${keyChr} is already registered at ${target}`);
    }
  }

  /** Admin-side registration of a `.pka` (`enroll pka`): checks, registers, records. */
  async registerPka(target: string, name: string, pka: Uint8Array): Promise<Custodian> {
    const t = this.target(target);
    let checked: CheckedPka;
    try {
      checked = this.check(pka);
    } catch (e) {
      this.store.audit.append('enrollment-refused', { target, name, reason: (e as Error).message });
      throw e;
    }
    this.refuseDuplicates(target, name, checked.key.chr);
    const id = newId('cus');
    await this.registerAtTarget(t, checked, () => {
      this.refuseDuplicates(target, name, checked.key.chr);
      this.store.custodians.insert({
        id,
        name,
        target,
        keyChr: checked.key.chr,
        pka,
        enrolledAt: this.clock().toISOString(),
      });
    });
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
    const finish = (custodianId: string) => {
      if (!this.store.enrollments.markUsed(tokenHash, now)) {
        throw new EnrollmentError('token-used', 'enrollment token already used');
      }
      this.store.custodians.setCredential(custodianId, hashSecret(credential), keyId);
    };
    let id: string;
    if (row.custodianId !== undefined) {
      const existing = this.store.custodians.get(row.custodianId);
      if (!existing || !bytesEqual(existing.pka, pka)) {
        return fail(
          new EnrollmentError('bad-pka', 'this .pka is not the one the administrator registered'),
        );
      }
      id = existing.id;
      this.store.db.transaction(() => finish(id))();
    } else {
      const t = this.target(row.target);
      try {
        this.refuseDuplicates(row.target, row.name, checked.key.chr);
      } catch (e) {
        return fail(e as EnrollmentError);
      }
      id = newId('cus');
      try {
        await this.registerAtTarget(t, checked, () => {
          this.store.db.transaction(() => {
            this.refuseDuplicates(row.target, row.name, checked.key.chr);
            this.store.custodians.insert({
              id,
              name: row.name,
              target: row.target,
              keyChr: checked.key.chr,
              pka,
              enrolledAt: now,
            });
            finish(id);
          })();
        });
      } catch (e) {
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
