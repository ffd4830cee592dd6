/**
 * Security alerts of the desktop app: every offer the engine refused for a security reason
 * (untrusted chain, wrong target, hostile script, replaced offer …) and every server the engine
 * gave up on because it kept sending refused offers, in plain words with the advice to tell the
 * security officer out of band (the server operator may be the attacker). Benign races
 * (expired on arrival, quorum already met, an approval already running) are not alerts.
 * Pure bookkeeping; bounded.
 * @module
 */
import type { SecurityAlert } from '../../shared/ipc/trust-model';
import type { OfferMessage } from '../../shared/protocol/index';
import type { OfferRejection } from '../custodian/offer-verify';

/** Alerts kept at most (oldest dropped). */
const KEEP = 100;

/** Refusals that are races, not attacks: no alert. */
const BENIGN: ReadonlySet<OfferRejection['code']> = new Set(['expired', 'quorum-met', 'busy']);

/** Plain words for each refusal (title, why). */
const WORDS: Record<OfferRejection['code'], { title: string; reason: string }> = {
  'chain-invalid': {
    title: 'Refused: the target is not a genuine HSM',
    reason: "The target's certificate chain did not check out.",
  },
  'untrusted-anchor': {
    title: 'Refused: the target chains to an unknown root',
    reason: "The target's certificate chain ends in a root this app does not trust.",
  },
  'device-mismatch': {
    title: 'Refused: wrong target device',
    reason: "The device id in the request is not the one in the target's certificate.",
  },
  expired: { title: 'Refused: already expired', reason: 'The request had expired on arrival.' },
  'expiry-too-far': {
    title: 'Refused: expiry too far away',
    reason: 'The request asked to stay open far longer than any ceremony may.',
  },
  'wrong-key': {
    title: 'Refused: not your key',
    reason: 'The request asked for a custodian key that is not the one on your card.',
  },
  'quorum-met': { title: 'Refused: quorum already met', reason: 'Enough custodians approved.' },
  'script-refused': {
    title: 'Refused: the server asked your card for more than one approval',
    reason:
      'The commands it sent for your card included operations that are never allowed (they were blocked before reaching the card).',
  },
  replayed: {
    title: 'Refused: a replayed or replaced request',
    reason: 'The server sent a request this app had already answered.',
  },
  busy: { title: 'Refused: an approval is running', reason: 'Try again in a moment.' },
  malformed: {
    title: 'Refused: a malformed request',
    reason: 'The request did not have the form every genuine request has.',
  },
};

/** The alert book. */
export class AlertBook {
  #alerts: SecurityAlert[] = [];
  #seq = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Records a refused offer; returns the alert, or undefined for a benign refusal. */
  offerRefused(
    serverId: string,
    serverName: string,
    offer: OfferMessage,
    rejection: OfferRejection,
    ceremonyOpen: boolean,
  ): SecurityAlert | undefined {
    if (BENIGN.has(rejection.code)) return undefined;
    const words = WORDS[rejection.code];
    return this.#add({
      id: `a-${++this.#seq}`,
      kind: 'offer-refused',
      serverId,
      serverName: serverName.slice(0, 500),
      at: this.now().toISOString(),
      code: rejection.code,
      title: words.title,
      reason: words.reason,
      detail: rejection.message.slice(0, 500),
      ceremonyId: offer.ceremonyId.slice(0, 128),
      offerId: offer.offerId.slice(0, 128),
      stated: {
        purpose: offer.purpose.slice(0, 500),
        requester: offer.requester.slice(0, 500),
        targetLabel: offer.target.label.slice(0, 500),
        targetDeviceId: offer.target.deviceId.slice(0, 500),
      },
      ceremonyOpen,
      reported: false,
    });
  }

  /** Records that the engine disconnected a server that kept sending refused offers. */
  serverSuspicious(serverId: string, serverName: string, detail: string): SecurityAlert {
    return this.#add({
      id: `a-${++this.#seq}`,
      kind: 'server-suspicious',
      serverId,
      serverName: serverName.slice(0, 500),
      at: this.now().toISOString(),
      code: 'server-suspicious',
      title: `Disconnected from ${serverName.slice(0, 200)}: it kept sending refused requests`,
      reason:
        'This app stopped talking to the server because it sent several requests that were refused for security reasons.',
      detail: detail.slice(0, 500),
      ceremonyOpen: false,
      reported: false,
    });
  }

  /** Updates whether each alert's ceremony is still open; true when anything changed. */
  refreshOpen(isOpen: (ceremonyId: string) => boolean): boolean {
    let changed = false;
    this.#alerts = this.#alerts.map((a) => {
      const open = a.ceremonyId !== undefined && !a.reported && isOpen(a.ceremonyId);
      if (open === a.ceremonyOpen) return a;
      changed = true;
      return { ...a, ceremonyOpen: open };
    });
    return changed;
  }

  /** Marks an alert reported. */
  markReported(id: string): SecurityAlert | undefined {
    const i = this.#alerts.findIndex((a) => a.id === id);
    if (i < 0) return undefined;
    const next = { ...this.#alerts[i]!, reported: true, ceremonyOpen: false };
    this.#alerts[i] = next;
    return next;
  }

  /** One alert. */
  get(id: string): SecurityAlert | undefined {
    return this.#alerts.find((a) => a.id === id);
  }

  /** Every alert, newest first. */
  list(): SecurityAlert[] {
    return [...this.#alerts].reverse();
  }

  #add(alert: SecurityAlert): SecurityAlert {
    this.#alerts = [...this.#alerts, alert].slice(-KEEP);
    return alert;
  }
}

/** The decline reason sent for "Decline & report". */
export function reportReason(alert: SecurityAlert): string {
  return `Declined and reported to the security officer: ${alert.title}`.slice(0, 500);
}
