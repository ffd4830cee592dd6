/**
 * Small HTTP helpers for the admin API: bounded JSON bodies, JSON answers, and one mapping
 * from domain errors to status codes and one-line messages.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { CardStatusError } from '../../shared/card/status-words';
import { CardTransportError } from '../../core/card/transport';
import { DeviceChainError } from '../../core/sc-hsm/device-chain';
import { KeyOperationError } from '../../core/sc-hsm/keys';
import { PkaError } from '../../core/sc-hsm/pka-target';
import { CeremonyError } from '../ceremonies/context';
import { EnrollmentError } from '../enroll/enrollment';
import { sqliteCode } from '../store/store-health';
import { TargetError } from '../targets/target-error';

/** Largest admin request body (a .pka is ~1.3 KiB, a digest batch at most ~70 KiB). */
export const MAX_BODY_BYTES = 256 * 1024;

/** An error with an HTTP status. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads and parses a JSON body (empty body = `{}`). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const CEREMONY_STATUS: Record<CeremonyError['code'], number> = {
  'unknown-target': 404,
  'not-found': 404,
  busy: 409,
  'not-pka': 409,
  'not-active': 409,
  invalid: 400,
};

const ENROLL_STATUS: Record<EnrollmentError['code'], number> = {
  'bad-token': 403,
  'token-used': 403,
  'token-expired': 403,
  'bad-pka': 422,
  duplicate: 409,
  'target-full': 409,
  'not-pka': 409,
  'unknown-target': 404,
};

const TARGET_STATUS: Record<TargetError['code'], number> = {
  card: 502,
  malformed: 502,
  'not-pka': 409,
  invalid: 400,
  duplicate: 409,
  busy: 409,
  locked: 409,
  unavailable: 503,
  inconsistent: 409,
  'unknown-target': 404,
};

/** Maps any thrown value to a status and a one-line message (internal details stay out). */
export function errorToHttp(e: unknown): { status: number; message: string; code: string } {
  if (e instanceof HttpError) return { status: e.status, message: e.message, code: 'http' };
  if (e instanceof CeremonyError)
    return { status: CEREMONY_STATUS[e.code], message: e.message, code: e.code };
  if (e instanceof EnrollmentError)
    return { status: ENROLL_STATUS[e.code], message: e.message, code: e.code };
  if (e instanceof TargetError)
    return { status: TARGET_STATUS[e.code], message: e.message, code: e.code };
  if (e instanceof CardStatusError)
    return { status: 502, message: `target card: ${e.message}`, code: 'card' };
  if (e instanceof CardTransportError)
    return { status: 503, message: `target card: ${e.message}`, code: e.code };
  // Answers of the wrong shape from the target card (core/sc-hsm parsers).
  if (e instanceof PkaError || e instanceof DeviceChainError || e instanceof KeyOperationError)
    return { status: 502, message: `target card: ${e.message}`, code: 'malformed' };
  // A store write that failed (disk full, locked): the operation failed, the server did not.
  if (sqliteCode(e) !== undefined)
    return {
      status: 503,
      message: `the server cannot write its database now (${sqliteCode(e)}); see /api/health`,
      code: 'store',
    };
  return { status: 500, message: 'internal server error', code: 'internal' };
}

/** Sends a 2xx answer of a contract route (server/api/admin-contract.ts), typed by its schema. */
export function reply<S extends z.ZodType>(
  res: ServerResponse,
  _route: { readonly response: S },
  status: number,
  body: z.input<S>,
): void {
  sendJson(res, status, body);
}
