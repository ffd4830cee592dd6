/**
 * Demo steps of the ceremony: custodians online with their session credentials, a ceremony
 * requested, each client verifying its offer locally, three custodians approving with their
 * PIN through the real engine (local VERIFY, firewall-gated script, docs/card-reference.md §6.6, §12), and
 * quorum read from the target card itself.
 * @module
 */
import type { RunningServer } from '../server/app';
import { adminCall, cardStatus, type CeremonyView } from './admin';
import { is, startCustodian, typedPin, type CustodianClient } from './custodian';
import type { Hardware } from './hardware';
import { formatPka } from './report';
import { QUORUM, TARGET, type DemoContext } from './setup-steps';

/** The custodians who approve in the demo (any three of the five would do). */
export const APPROVERS = ['alice', 'carol', 'erin'] as const;

/**
 * Step: everyone connects with the credential from enrollment (to `url`, default the server's
 * own WebSocket URL; the benchmarks pass a delaying proxy).
 */
export async function connectAll(
  ctx: DemoContext,
  server: RunningServer,
  hw: Hardware,
  url: string = server.wsUrl,
): Promise<CustodianClient[]> {
  ctx.r.step(
    'Custodians come online',
    'each desktop client authenticates with its session credential; the PKA key is never used for the transport',
  );
  const clients: CustodianClient[] = [];
  for (const c of hw.custodians) {
    const cred = ctx.credentials.get(c.name);
    if (!cred) throw new Error(`${c.name} has no credential`);
    const client = startCustodian({
      name: c.name,
      url,
      auth: { kind: 'session', ...cred },
      anchors: [ctx.anchor!],
      keyId: c.keyId,
      keyChr: c.keyChr,
      openCard: c.openCard,
      frames: ctx.frames,
      dir: ctx.dir,
    });
    clients.push(client);
  }
  for (const client of clients) {
    await client.next(is.authenticated, 'authenticated session');
    ctx.r.ok(`${client.name} connected as ${ctx.credentials.get(client.name)!.custodianId}`);
  }
  return clients;
}

/** Step: a ceremony is requested; every client must accept the offer after its own checks. */
export async function requestCeremony(
  ctx: DemoContext,
  server: RunningServer,
  clients: readonly CustodianClient[],
): Promise<string> {
  ctx.r.step(
    'An operator requests a signing ceremony',
    'the server takes ONE challenge from the target and offers the same signing script to every custodian (docs/card-reference.md §6.6)',
  );
  const c = await adminCall<CeremonyView>(server, 'POST', '/api/ceremonies', {
    target: TARGET,
    purpose: 'Sign the 10 files of release 1.0',
    requester: 'release-manager',
    expiresInSeconds: 300,
  });
  ctx.r.info(`ceremony ${c.id}: ${c.quorum.n} of ${c.quorum.m} needed, target ${c.deviceId}`);
  for (const client of clients) {
    const e = await client.next(
      (ev): ev is Extract<typeof ev, { type: 'offer-added' | 'offer-rejected' }> =>
        (ev.type === 'offer-added' && ev.offer.ceremonyId === c.id) ||
        (ev.type === 'offer-rejected' && ev.offer.ceremonyId === c.id),
      'offer',
    );
    if (e.type === 'offer-rejected')
      throw new Error(`${client.name} rejected the offer: ${e.rejection.message}`);
    const v = e.offer.verified;
    const anchor = v.anchor.test ? `${v.anchor.chr} (TEST anchor)` : v.anchor.chr;
    ctx.r.ok(
      `${client.name.padEnd(6)} verified offer: device ${v.deviceId}, chain ${v.chainPath}, anchor ${anchor}, challenge ${v.offer.challenge}`,
    );
  }
  ctx.r.info(`card PKA status: ${formatPka(await cardStatus(server, TARGET))}`);
  return c.id;
}

/** Steps: one per approver; the PIN is typed into the engine, which verifies it on the card. */
export async function approve(
  ctx: DemoContext,
  server: RunningServer,
  clients: readonly CustodianClient[],
  hw: Hardware,
  ceremonyId: string,
): Promise<void> {
  for (const name of APPROVERS) {
    const client = clients.find((c) => c.name === name);
    const seat = hw.custodians.find((c) => c.name === name);
    if (!client || !seat) throw new Error(`no custodian ${name}`);
    ctx.r.step(
      `${name} approves with their PIN`,
      'the PIN is checked by the custodian card itself (VERIFY, docs/card-reference.md §3.1); only the firewall-approved SIGN goes to the card and only its signature to the server (docs/card-reference.md §12)',
    );
    const offer = client.engine.offers().find((o) => o.ceremonyId === ceremonyId);
    if (!offer) throw new Error(`${name} has no pending offer`);
    const pin = typedPin(seat.pin);
    const outcome = await client.engine.approve(ceremonyId, pin.source);
    if (outcome.kind !== 'approved') {
      throw new Error(
        `${name}'s approval ended with ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}`,
      );
    }
    if (!pin.given.every((b) => b.every((x) => x === 0)))
      throw new Error('the engine did not wipe the typed PIN');
    ctx.r.info(
      `PIN prompt: ${pin.prompts.map((p) => `${p.retries ?? '?'} tries left`).join(', ')}; PIN verified on ${name}'s card and wiped from memory`,
    );
    ctx.r.info(
      `firewall: ${outcome.forwarded} APDU(s) forwarded, ${outcome.blocked} blocked; ${outcome.signatures} signature(s) made`,
    );
    const result = await client.next(is.result(offer.offerId), 'result');
    if (result.result.outcome !== 'accepted') {
      throw new Error(`the target did not accept ${name}'s signature: ${result.result.outcome}`);
    }
    ctx.r.ok(
      `target accepted (EXTERNAL AUTHENTICATE SW ${result.result.sw?.toString(16).toUpperCase() ?? '?'})`,
    );
    ctx.r.info(`card PKA status: ${formatPka(await cardStatus(server, TARGET))}`);
  }
}

/** Step: quorum, as the card and the server see it. */
export async function quorum(
  ctx: DemoContext,
  server: RunningServer,
  clients: readonly CustodianClient[],
  ceremonyId: string,
) {
  ctx.r.step(
    'Quorum reached',
    `the card counts ${QUORUM.n} authenticated keys and is unlocked like after a correct PIN (docs/card-reference.md §6.7)`,
  );
  const snap = await adminCall<CeremonyView>(server, 'GET', `/api/ceremonies/${ceremonyId}`);
  const status = await cardStatus(server, TARGET);
  if (snap.state !== 'quorum') throw new Error(`ceremony is ${snap.state}, expected quorum`);
  if (status.authenticated < status.n)
    throw new Error(`card reports ${formatPka(status)}: no quorum`);
  for (const client of clients) await client.next(is.ended(ceremonyId, 'quorum'), 'quorum update');
  ctx.r.ok(`card PKA status: ${formatPka(status)}`);
  ctx.r.ok(`approved by ${snap.progress.approvedBy.join(', ')}; all five clients saw the quorum`);
  if (snap.unlocked)
    ctx.r.info(
      `unlocked until ${snap.unlocked.until} or ${snap.unlocked.signaturesLeft} more signatures`,
    );
  return { status, approvedBy: snap.progress.approvedBy, state: snap.state };
}
