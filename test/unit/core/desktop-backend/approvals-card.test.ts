/**
 * Issue 10 item 2 at the desktop backend: the reader chosen for an approval reaches the engine
 * as that approval's card, and the IPC error code comes from the transport failure the
 * approval's own outcome carries — not from state shared between approvals. The approvals
 * here run without the backend's card queue, so nothing but the arguments keeps them apart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CardTransport } from '../../../../core/card/transport';
import { createApprovals } from '../../../../core/desktop-backend/approvals';
import { CeremonyBook } from '../../../../core/desktop-backend/ceremony-book';
import type { EngineEvent, OfferView } from '../../../../core/custodian/engine-types';
import { asciiBytes } from '../../../../shared/codec/bytes';
import {
  custodianCard,
  fakeServer,
  makeOffer,
  PIN,
  startEngine,
  targetDevice,
} from '../../../integration/custodian/harness';
import {
  brokenDriver,
  busyReader,
  removedAtVerify,
} from '../../../integration/custodian/card-faults';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('10.2 the backend reports each approval with its own card failure', () => {
  it('10.2 concurrent approvals on different readers: removed, busy and a non-transport failure stay apart', async () => {
    const server = await fakeServer();
    const card = await custodianCard();
    const eng = startEngine({
      url: server.url,
      openCard: () => Promise.reject(new Error('the engine default must not be used')),
      keyId: card.key.keyId,
      keyChr: card.key.chr,
    });
    cleanups.push(
      () => eng.engine.stop(),
      () => eng.audit.close(),
      () => server.close(),
    );
    await eng.next((e) => e.type === 'connection' && e.state.kind === 'authenticated');
    const key = { keyId: card.key.keyId, chr: card.key.chr };
    const book = new CeremonyBook();
    const views: OfferView[] = [];
    for (const serial of [202, 203, 204]) {
      const offer = makeOffer(targetDevice(serial), key);
      server.broadcast(offer);
      const e = await eng.next(
        (x: EngineEvent) => x.type === 'offer-added' && x.offer.offerId === offer.offerId,
      );
      if (e.type !== 'offer-added') throw new Error('unreachable');
      book.offer('s1', e.offer);
      views.push(e.offer);
    }
    // Interleaved on purpose: the removal in reader 00 happens first, then reader 02 fails
    // while 00's approval is still open (its card not yet released), then 00 ends.
    let removed!: () => void;
    const removal = new Promise<void>((r) => (removed = r));
    let brokenDone!: () => void;
    const brokenSettled = new Promise<void>((r) => (brokenDone = r));
    const readers: Record<string, () => Promise<CardTransport>> = {
      'Removed 00': removedAtVerify(card.openCard, {
        raised: removed,
        releaseAfter: brokenSettled,
      }),
      'Busy 01': busyReader,
      'Broken 02': brokenDriver(removal),
    };
    const approvals = createApprovals({
      book,
      engineOf: () => eng.engine,
      serial: (fn) => fn(), // no queue: only the arguments keep the approvals apart
      openCard: (reader) => readers[reader]!,
      timeoutMs: 50,
    });
    const approve = (v: OfferView, reader: string) =>
      approvals.approve(
        {
          ceremonyId: v.ceremonyId,
          offerId: v.offerId,
          offerDigest: v.displayDigest,
          reader,
          pin: asciiBytes(PIN),
          acknowledgeTestAnchor: v.verified.anchor.chr,
        },
        () => undefined,
      );
    const brokenRun = approve(views[2]!, 'Broken 02').finally(brokenDone);
    const [gone, busy, broken] = await Promise.all([
      approve(views[0]!, 'Removed 00'),
      approve(views[1]!, 'Busy 01'),
      brokenRun,
    ]);
    expect(gone).toMatchObject({ ok: false, error: { code: 'card-removed' } });
    expect(busy).toMatchObject({ ok: false, error: { code: 'card-busy' } });
    expect(broken).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(!broken.ok && broken.error.message).toMatch(/driver bug/);
  });
});
