import type { CustodianEngine } from '../../../core/custodian/engine';
import { refOf, type OfferRef } from '../../../core/custodian/engine-types';

/**
 * The reference of the offer the engine currently shows for a ceremony (pending first, else the
 * latest tracked one): for tests whose subject is not the offer-swap check (issue 7 item 3).
 * A ceremony without any tracked offer gets a reference that matches nothing.
 */
export function shownRef(engine: CustodianEngine, ceremonyId: string): OfferRef {
  const views = engine.offers().filter((o) => o.ceremonyId === ceremonyId);
  const view = views.find((o) => o.phase === 'pending') ?? views.at(-1);
  return view ? refOf(view) : { ceremonyId, offerId: 'none', displayDigest: '0'.repeat(64) };
}

type ShownOffer = { offerId: string; offerDigest: string };
type DetailReply =
  | { readonly ok: true; readonly value: ShownOffer }
  | { readonly ok: false; readonly error: unknown };

/**
 * The offer id and display digest the detail view of a ceremony shows (backend, IPC handlers
 * or bridge): what the renderer sends with an approval.
 */
export async function shownOffer(
  api: { getCeremony(r: { ceremonyId: string }): Promise<DetailReply> },
  ceremonyId: string,
): Promise<ShownOffer> {
  const r = await api.getCeremony({ ceremonyId });
  if (!r.ok) throw new Error(`no detail for ${ceremonyId}: ${JSON.stringify(r.error)}`);
  return { offerId: r.value.offerId, offerDigest: r.value.offerDigest };
}
