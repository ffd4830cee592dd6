/**
 * The ceremonies the desktop app lists: the engine's offers turned into the UI's summaries and
 * details, kept after the engine lets an offer go (quorum, expiry, cancel) so the custodian
 * still sees how it ended. Pure bookkeeping over engine events; bounded.
 * @module
 */
import type { OfferView } from '../custodian/engine-types';
import type { CeremonyPhase } from '../custodian/ceremony-state';
import type {
  CeremonyDetail,
  CeremonyStatus,
  CeremonySummary,
  ChainStatus,
  CustodianState,
} from '../../shared/ipc/model';
import type { TargetHistory } from '../../shared/ipc/trust-model';
import type { Progress } from '../../shared/protocol/index';

/** What this computer remembers about a target device (core/desktop-backend/known-devices.ts). */
export type HistoryOf = (serverId: string, deviceId: string, ceremonyId: string) => TargetHistory;

/** Ended ceremonies kept for the list. */
const KEEP_ENDED = 200;

/** One ceremony as the app knows it. */
type Entry = {
  serverId: string;
  offer: OfferView;
  status: CeremonyStatus;
  progress: Progress;
  /** When this app first saw the ceremony (by this computer's clock). */
  readonly seenAt: string;
  /** This custodian's answer, once given here, and when. */
  mine?: { readonly answer: 'approved' | 'declined'; readonly at: string };
  /** This custodian's name as the server lists approvers (learnt from our `result`). */
  myName?: string;
};

/** The UI status of an engine phase (docs/desktop-app.md "Engine adapter"). */
export function statusOfPhase(phase: CeremonyPhase): CeremonyStatus {
  switch (phase) {
    case 'pending':
    case 'approving':
      return 'waiting';
    case 'approved':
      return 'approved';
    case 'declined':
      return 'declined';
    case 'rejected':
      return 'failed';
    case 'expired':
      return 'expired';
    case 'ended':
      return 'quorum';
  }
}

/** The UI status after the engine removed an offer for `reason` (server state or rejection). */
export function statusOfRemoval(reason: string): CeremonyStatus | undefined {
  switch (reason) {
    case 'quorum':
    case 'completed':
      return 'quorum';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'replaced by a newer offer':
      return undefined; // a new offer for the same ceremony follows at once
    default:
      return 'failed';
  }
}

/** The target chain as this app checked it (never the server's word). */
export function targetChainOf(offer: OfferView): ChainStatus {
  const v = offer.verified;
  const warnings = v.chainWarnings.join('; ').slice(0, 500);
  if (v.anchor.test) {
    const detail =
      v.anchor.source === 'configured'
        ? `${v.anchor.chr} is a test root configured on this computer (${v.anchor.label}); a genuine device never chains to it`
        : `${v.anchor.chr} is a test root (${v.anchor.label}); a genuine device never chains to it`;
    return {
      status: 'test',
      anchor: v.anchor.chr,
      detail: warnings ? `${detail}; ${warnings}`.slice(0, 500) : detail,
    };
  }
  return warnings
    ? { status: 'genuine', anchor: v.anchor.chr, detail: warnings }
    : { status: 'genuine', anchor: v.anchor.chr };
}

/** The ceremonies of every server, by ceremony id. */
export class CeremonyBook {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly historyOf?: HistoryOf,
  ) {}

  /** Records a new or changed offer. */
  offer(serverId: string, offer: OfferView): void {
    const prior = this.#entries.get(offer.ceremonyId);
    const status = statusOfPhase(offer.phase);
    const entry: Entry = {
      serverId,
      offer,
      status,
      progress: offer.progress,
      seenAt: prior?.seenAt ?? this.now().toISOString(),
    };
    if (prior?.mine) entry.mine = prior.mine;
    else if (status === 'approved' || status === 'declined')
      entry.mine = { answer: status, at: this.now().toISOString() };
    if (prior?.myName !== undefined) entry.myName = prior.myName;
    this.#entries.delete(offer.ceremonyId); // re-insert: newest last
    this.#entries.set(offer.ceremonyId, entry);
    this.#trim();
  }

  /** The engine let the offer go; returns false when nothing changed. */
  removed(ceremonyId: string, reason: string): boolean {
    const entry = this.#entries.get(ceremonyId);
    const status = statusOfRemoval(reason);
    if (!entry || status === undefined) return false;
    entry.status = status;
    this.#trim();
    return true;
  }

  /** Newer progress from an `update` (the offer itself may be gone). */
  progress(ceremonyId: string, progress: Progress): boolean {
    const entry = this.#entries.get(ceremonyId);
    if (!entry) return false;
    entry.progress = progress;
    return true;
  }

  /**
   * The server's answer to our own approval: the one name it adds to the approvers is ours
   * (used to mark "you" in the list of custodians).
   */
  ownResult(ceremonyId: string, offerId: string, progress: Progress, accepted: boolean): boolean {
    const entry = this.#entries.get(ceremonyId);
    if (!entry || entry.offer.offerId !== offerId) return false;
    const before = new Set(entry.progress.approvedBy);
    const added = progress.approvedBy.filter((n) => !before.has(n));
    if (accepted && added.length === 1) entry.myName = added[0]!;
    entry.progress = progress;
    return true;
  }

  /** Drops every ceremony of a server (it was removed). */
  dropServer(serverId: string): void {
    for (const [id, e] of this.#entries) if (e.serverId === serverId) this.#entries.delete(id);
  }

  /** The engine offer behind a ceremony, if any. */
  get(
    ceremonyId: string,
  ): { serverId: string; offer: OfferView; status: CeremonyStatus } | undefined {
    const e = this.#entries.get(ceremonyId);
    return e && { serverId: e.serverId, offer: e.offer, status: e.status };
  }

  /** The summary of one ceremony. */
  summary(ceremonyId: string): CeremonySummary | undefined {
    const e = this.#entries.get(ceremonyId);
    return e && this.#summary(e);
  }

  /** Summaries of every known ceremony. */
  summaries(): CeremonySummary[] {
    return [...this.#entries.values()].map((e) => this.#summary(e));
  }

  /** The detail view of one ceremony. */
  detail(ceremonyId: string): CeremonyDetail | undefined {
    const e = this.#entries.get(ceremonyId);
    if (!e) return undefined;
    return {
      ...this.#summary(e),
      targetChain: targetChainOf(e.offer),
      custodians: custodiansOf(e),
      keyChr: e.offer.verified.offer.key.chr,
      offerId: e.offer.offerId,
      offerDigest: e.offer.displayDigest,
    };
  }

  #summary(e: Entry): CeremonySummary {
    const s = summaryOf(e);
    return this.historyOf
      ? { ...s, targetHistory: this.historyOf(e.serverId, s.targetDeviceId, s.id) }
      : s;
  }

  #trim(): void {
    let ended = [...this.#entries.entries()].filter(([, e]) => e.status !== 'waiting');
    while (ended.length > KEEP_ENDED) {
      this.#entries.delete(ended[0]![0]);
      ended = ended.slice(1);
    }
  }
}

function summaryOf(e: Entry): CeremonySummary {
  const o = e.offer.verified.offer;
  return {
    id: o.ceremonyId,
    serverId: e.serverId,
    purpose: o.purpose,
    requester: o.requester,
    targetDeviceId: e.offer.verified.deviceId,
    targetLabel: o.target.label,
    required: o.quorum.n,
    total: o.quorum.m,
    approvals: Math.min(e.progress.authenticated, o.quorum.m),
    status: e.status,
    ...requestedAtOf(e),
    expiresAt: new Date(o.expiresAt).toISOString(),
    // In the list too, so a TEST target is flagged before anyone opens it.
    targetChain: targetChainOf(e.offer),
  };
}

/**
 * When the ceremony was requested: the server's `requestedAt` (docs/protocol.md §5.2), but
 * never later than this app first saw it — a server clock ahead of ours would otherwise show a
 * request made "in the future". Without it (older servers), the time this app first saw it.
 */
function requestedAtOf(e: Entry): Pick<CeremonySummary, 'createdAt' | 'createdAtSource'> {
  const stated = e.offer.verified.offer.requestedAt;
  if (stated === undefined) return { createdAt: e.seenAt, createdAtSource: 'seen' };
  const ms = Math.min(Date.parse(stated), Date.parse(e.seenAt));
  return { createdAt: new Date(ms).toISOString(), createdAtSource: 'server' };
}

/**
 * Who has answered: the offer names every custodian of the target and marks this one
 * (docs/protocol.md §5.2); the server's `approvedBy` says who approved; this custodian's own
 * answer is known here.
 */
function custodiansOf(e: Entry): CustodianState[] {
  const named = e.offer.verified.offer.custodians;
  return named === undefined ? unnamedCustodiansOf(e) : namedCustodiansOf(e, named);
}

function namedCustodiansOf(
  e: Entry,
  named: readonly { readonly name: string; readonly you: boolean }[],
): CustodianState[] {
  const approved = new Set(e.progress.approvedBy);
  const rows: CustodianState[] = named.map(({ name, you }) => {
    const mine = you ? e.mine : undefined;
    if (mine) return { name: name.slice(0, 500), state: mine.answer, me: true, at: mine.at };
    return {
      name: name.slice(0, 500),
      state: approved.has(name) ? 'approved' : 'pending',
      me: you,
    };
  });
  // An approver the list does not name (custodians changed since): still shown, never lost.
  for (const name of e.progress.approvedBy)
    if (!named.some((c) => c.name === name))
      rows.push({ name: name.slice(0, 500), state: 'approved', me: false });
  return rows.slice(0, 255);
}

/** Older servers name only approvers: the others are listed as unnamed pending rows. */
function unnamedCustodiansOf(e: Entry): CustodianState[] {
  const m = e.offer.verified.offer.quorum.m;
  const rows: CustodianState[] = e.progress.approvedBy.slice(0, m).map((name) => ({
    name: name.slice(0, 500),
    state: 'approved',
    me: name === e.myName,
    ...(name === e.myName && e.mine ? { at: e.mine.at } : {}),
  }));
  if (e.mine && !rows.some((r) => r.me)) {
    rows.unshift({ name: 'You', state: e.mine.answer, me: true, at: e.mine.at });
  }
  // The list is keyed by name, so each unnamed row gets its own.
  for (let i = 1; rows.length < m; i++) {
    const name = `Custodian not named by the server (${i})`;
    if (!rows.some((r) => r.name === name)) rows.push({ name, state: 'pending', me: false });
  }
  return rows.slice(0, m);
}
