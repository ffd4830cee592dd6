/**
 * One batched signing request of `custodian-server sign`: `POST /api/targets/:t/sign` with up
 * to {@link SIGN_BATCH_SIZE} digests. The server signs them in order inside the unlock window
 * and answers with the signatures it made; when the window ends (signature or time limit) or
 * the card fails part-way, it answers with an error AND the signatures made before it
 * (server/api/routes.ts), so the CLI can keep those and name the files left unsigned.
 * @module
 */
import { ADMIN_API } from '../api/admin-contract';
import { api, ApiError, type ServerTarget } from './admin-client';

/**
 * Digests per request: large enough that the request, key lookup and audit entry per batch
 * cost little next to the card's SIGNs, small enough that the request stays small (the server
 * accepts up to 1000) and progress is reported while a large run is going.
 */
export const SIGN_BATCH_SIZE = 64;

/** Why signing stopped before the end of a batch. */
export type SignStop = {
  /** The server's one-line reason (e.g. `target t1 is locked: request a ceremony first`). */
  readonly reason: string;
  /** HTTP status of the refusal (409 locked, 502 card, …). */
  readonly status: number;
};

/** What one batch request produced. */
export type BatchResult = {
  /** DER signatures, in the order of the digests, possibly fewer than requested. */
  readonly signatures: Uint8Array[];
  /** Set when the server signed fewer digests than requested. */
  readonly stop?: SignStop;
};

/** A DER ECDSA signature (≤ 160 bytes) or an RSA signature (≤ 512 bytes, 4096-bit keys). */
const HEX_SIG = /^(?:[0-9a-f]{2}){8,512}$/i;

function signaturesOf(body: unknown, requested: number): Uint8Array[] | undefined {
  const s = (body as { signatures?: unknown } | null)?.signatures;
  if (!Array.isArray(s)) return undefined;
  if (s.length > requested || !s.every((x) => typeof x === 'string' && HEX_SIG.test(x))) {
    throw new Error(
      `the server answered ${s.length} signature(s) of the wrong form for ${requested} digest(s)`,
    );
  }
  return s.map((x: string) => Uint8Array.from(Buffer.from(x, 'hex')));
}

/**
 * Asks the server to sign `digests` (hex SHA-256) with key `keyId` of target `target`.
 * A refusal before any signature was made throws the server's {@link ApiError} unchanged;
 * a refusal part-way returns the signatures made so far with the reason.
 */
export async function signBatch(
  server: ServerTarget,
  target: string,
  keyId: number,
  digests: readonly string[],
): Promise<BatchResult> {
  if (digests.length === 0 || digests.length > SIGN_BATCH_SIZE)
    throw new RangeError(`a batch holds 1–${SIGN_BATCH_SIZE} digests, not ${digests.length}`);
  let body: unknown;
  try {
    body = await api(server, ADMIN_API.sign, `/api/targets/${encodeURIComponent(target)}/sign`, {
      key: String(keyId),
      digests,
    });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const partial = signaturesOf(e.body, digests.length);
    if (partial === undefined || partial.length === 0) throw e;
    return { signatures: partial, stop: { reason: e.message, status: e.status } };
  }
  const signatures = signaturesOf(body, digests.length);
  if (signatures === undefined)
    throw new Error('the server answered the sign request without signatures');
  if (signatures.length < digests.length) {
    // A 200 answer must cover the whole batch; anything else is a server fault, said plainly.
    return {
      signatures,
      stop: { reason: 'the server signed fewer digests than requested', status: 500 },
    };
  }
  return { signatures };
}
