/**
 * `POST /api/targets/:name/sign`: one batch of digests signed inside the unlock window by
 * server/sign/sign-digests.ts (which audits intent and outcome); this route only maps the
 * result to HTTP.
 * @module
 */
import type { ServerResponse } from 'node:http';
import { signDigests } from '../sign/sign-digests';
import type { Store } from '../store/store';
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
  const r = await signDigests(store, t, body.key, body.digests, (e) => errorToHttp(e).message);
  const signatures = [...r.signatures];
  if ('failure' in r) {
    if (signatures.length === 0) throw r.failure;
    // Part-way: the refusal plus the signatures already made, so none of them is lost.
    const { status, message, code } = errorToHttp(r.failure);
    return sendJson(res, status, { error: message, code, signatures });
  }
  reply(res, ADMIN_API.sign, 200, { keyId: r.keyId, signatures, unlocked: t.unlocked ?? null });
}
