/**
 * C_Login on the server: succeed at once when the target is unlocked; otherwise join the
 * target's active ceremony or request one (purpose and requester from the module, the client's
 * name in front), and answer when it ends: quorum → CKR_OK; declined → CKR_FUNCTION_REJECTED;
 * expired or cancelled → CKR_FUNCTION_CANCELED; anything else → CKR_DEVICE_ERROR
 * (docs/pkcs11.md "Login"). When the last waiting client disconnects before the quorum, a
 * ceremony a PKCS#11 login requested is cancelled, so nobody approves for a caller that is gone.
 * @module
 */
import type { CeremonySnapshot } from '../ceremonies/context';
import type { CeremonyEngine } from '../ceremonies/engine';
import type { Store } from '../store/store';
import type { TargetService } from '../targets/target-service';
import type { Pkcs11Client } from './client-store';
import { CKR, refusalOf } from './ckr';

/** What the login wait needs. */
export type LoginDeps = {
  readonly store: Store;
  readonly engine: CeremonyEngine;
};

/** Outcome of one C_Login. */
export type LoginOutcome = { readonly rv: number; readonly message: string };

const waiters = new Map<string, { count: number; requestedByPkcs11: boolean }>();

function outcomeOf(s: CeremonySnapshot): LoginOutcome | undefined {
  switch (s.state) {
    case 'open':
      return undefined;
    case 'quorum':
      return { rv: CKR.OK, message: `ceremony ${s.id} reached quorum` };
    case 'expired':
      return { rv: CKR.FUNCTION_CANCELED, message: `ceremony ${s.id} expired before quorum` };
    case 'cancelled':
      return { rv: CKR.FUNCTION_CANCELED, message: `ceremony ${s.id} ${s.reason ?? 'cancelled'}` };
    case 'failed': {
      const declined = s.answers.some((a) => a.outcome === 'declined');
      return declined
        ? { rv: CKR.FUNCTION_REJECTED, message: `ceremony ${s.id} declined: ${s.reason ?? ''}` }
        : { rv: CKR.DEVICE_ERROR, message: `ceremony ${s.id} failed: ${s.reason ?? ''}` };
    }
    case 'completed':
      return { rv: CKR.FUNCTION_CANCELED, message: `ceremony ${s.id} ended: ${s.reason ?? ''}` };
  }
}

/**
 * Runs one C_Login for `client` and resolves with its outcome. `gone` resolves when the
 * client's connection closes.
 */
export async function login(
  deps: LoginDeps,
  t: TargetService,
  client: Pkcs11Client,
  req: { purpose: string; requester: string },
  gone: Promise<void>,
): Promise<LoginOutcome> {
  const audit = (outcome: string, extra: Record<string, string | number | boolean>) =>
    deps.store.audit.append('pkcs11-login', {
      client: client.name,
      target: t.name,
      outcome,
      ...extra,
    });
  if (t.unlocked) {
    audit('unlocked', { ceremonyId: t.unlocked.ceremonyId });
    return { rv: CKR.OK, message: 'target unlocked' };
  }
  let snap = deps.engine
    .list()
    .find((c) => c.target === t.name && (c.state === 'open' || c.state === 'quorum'));
  let created = false;
  if (!snap) {
    try {
      snap = await deps.engine.request({
        target: t.name,
        purpose: req.purpose,
        requester: `${client.name} (PKCS#11): ${req.requester}`.slice(0, 200),
      });
      created = true;
    } catch (e) {
      const r = refusalOf(e);
      audit('refused', { rv: r.rv, reason: r.message });
      return r;
    }
  }
  const id = snap.id;
  const w = waiters.get(id) ?? { count: 0, requestedByPkcs11: false };
  w.count += 1;
  w.requestedByPkcs11 ||= created;
  waiters.set(id, w);
  audit('waiting', { ceremonyId: id, requested: created });
  let stop: (() => void) | undefined;
  const ended = new Promise<LoginOutcome>((resolve) => {
    stop = deps.engine.watch((s) => {
      if (s.id !== id) return;
      const o = outcomeOf(s);
      if (o) resolve(o);
    });
    const now = deps.engine.get(id);
    const o = now && outcomeOf(now);
    if (o) resolve(o);
  });
  const result = await Promise.race([ended, gone.then(() => undefined)]);
  stop?.();
  w.count -= 1;
  if (w.count === 0) waiters.delete(id);
  if (result === undefined) {
    audit('client-gone', { ceremonyId: id });
    if (w.count === 0 && w.requestedByPkcs11 && deps.engine.get(id)?.state === 'open') {
      await deps.engine
        .cancel(id, `PKCS#11 client ${client.name} (it stopped waiting)`)
        .catch(() => undefined);
    }
    return { rv: CKR.FUNCTION_CANCELED, message: 'client gone' };
  }
  audit(result.rv === CKR.OK ? 'unlocked' : 'failed', {
    ceremonyId: id,
    rv: result.rv,
    reason: result.message,
  });
  return result;
}
