/**
 * `POST /api/targets/:name/sign`: one batch of digests signed inside the unlock window.
 * Intent before the card step (server/README.md "Intent before every card step"): a
 * `sign-intent` audit entry naming every digest of the batch is stored BEFORE the card signs
 * the first one, and the outcome (`signed` with exactly the digests the card signed, or
 * `sign-refused`) after; so a crash mid-batch never leaves a target signature unaudited, and
 * the next start records the batch as `sign-unresolved`.
 * @module
 */
import type { ServerResponse } from 'node:http';
import { fromHex, toHex } from '../../shared/codec/bytes';
import { recordIntent, recordOutcome } from '../store/audit-intents';
import type { Store } from '../store/store';
import { signingKey } from '../targets/target-admin';
import { TargetError } from '../targets/target-error';
import type { TargetService } from '../targets/target-service';
import { ADMIN_API } from './admin-contract';
import { errorToHttp, reply, sendJson } from './http-util';

/** Signs `body.digests` with `body.key`, answering with the signatures made (also part-way). */
export async function signBatch(
  store: Store,
  t: TargetService,
  body: { readonly key: string; readonly digests: readonly string[] },
  res: ServerResponse,
): Promise<void> {
  const key = await signingKey(t, body.key);
  // Taken before signing: the last allowed signature ends the window (and its ceremony id).
  const ceremonyId = t.unlocked?.ceremonyId;
  if (ceremonyId === undefined)
    throw new TargetError('locked', `target ${t.name} is locked: request a ceremony first`);
  const digests = body.digests.map((x) => x.toLowerCase());
  const what = { target: t.name, keyId: key.id, ceremonyId };
  // The intent; a store failure here refuses the batch before the card signs anything.
  const intent = recordIntent(store, 'sign', { ...what, requested: digests.length, digests });
  const signatures: string[] = [];
  let failure: unknown;
  // RSA keys sign PKCS#1 v1.5 over the SHA-256 DigestInfo: `openssl dgst -sha256 -verify`.
  const rsa = key.type === 'rsa' ? ({ scheme: 'pkcs1', hash: 'sha256' } as const) : undefined;
  for (const digest of digests) {
    try {
      signatures.push(toHex(await t.signWithinUnlock(key.id, fromHex(digest), rsa)));
    } catch (e) {
      // Window ended (signature or time limit, docs/card-reference.md §6.7) or the card failed: stop.
      failure = e;
      break;
    }
  }
  // The outcome, listing exactly the digests the card signed. Not storable: the intent already
  // covers them; the signatures are still returned (they exist) and the operator alerted.
  if (signatures.length > 0) {
    recordOutcome(store, intent, 'signed', {
      ...what,
      count: signatures.length,
      digests: digests.slice(0, signatures.length),
      ...(failure === undefined ? {} : { requested: digests.length }),
    });
  } else {
    recordOutcome(store, intent, 'sign-refused', { ...what, reason: errorToHttp(failure).message });
  }
  if (failure !== undefined) {
    if (signatures.length === 0) throw failure;
    // Part-way: the refusal plus the signatures already made, so none of them is lost.
    const { status, message, code } = errorToHttp(failure);
    return sendJson(res, status, { error: message, code, signatures });
  }
  reply(res, ADMIN_API.sign, 200, { keyId: key.id, signatures, unlocked: t.unlocked ?? null });
}
