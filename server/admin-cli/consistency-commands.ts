/**
 * `target status`'s consistency lines and `target reconcile` (issue 7 item 1): a card holding
 * PKA keys the server does not know is reported loudly and blocks the target until an
 * operator reconciles it.
 * @module
 */
import type { z } from 'zod';
import { ADMIN_API, type consistencySchema } from '../api/admin-contract';
import { api, type Connected } from './admin-client';
import type { CliIo } from './errors';

/** The `consistency` member of `GET /api/targets/:name` (null when card and store agree). */
export type ConsistencyView = z.output<typeof consistencySchema>;

/** Lines for `target status`: nothing when card and store agree. */
export function consistencyLines(target: string, c: ConsistencyView | undefined): string {
  if (!c) return '';
  const card = c.registeredOnCard ?? 'an unknown number of';
  const unknown = c.unknownKeys?.length
    ? `\n  UNKNOWN KEY(S) ON THE CARD: ${c.unknownKeys.join(', ')}`
    : '';
  if (c.state === 'acknowledged') {
    return `  WARNING: card holds ${card} registered key(s), server knows ${c.knownToServer}; acknowledged by an operator since ${c.since}${unknown}\n`;
  }
  return (
    `  INCONSISTENT since ${c.since}: the card holds ${card} registered PKA key(s) but the server knows ${c.knownToServer}${unknown}\n` +
    `  ${c.detail}\n` +
    `  ceremonies and enrollments at ${target} are BLOCKED; run "custodian-server target reconcile --target ${target}"` +
    ` (add --acknowledge to accept the card as it is; see server/README.md)\n`
  );
}

/** `target reconcile [--acknowledge]`. */
export async function targetReconcile(
  o: Connected & { target: string; acknowledge?: boolean },
  io: CliIo,
) {
  const r = await api(
    o.conn,
    ADMIN_API.reconcile,
    `/api/targets/${encodeURIComponent(o.target)}/reconcile`,
    { acknowledge: o.acknowledge === true },
  );
  if (r.consistency === null) io.out(`target ${o.target}: card and server agree\n`);
  else io.out(consistencyLines(o.target, r.consistency));
}
