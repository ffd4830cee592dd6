/**
 * The ceremonies and security alerts of the fake bridge (split from fake-bridge.ts by concern):
 * list, detail, approve (with the same TEST-root and chain rules as core/desktop-backend/approvals.ts),
 * decline, alerts and "Decline & report". Pure TS.
 * @module
 */
import type { CustodianApi, IpcResult, PayloadOf } from '../../shared/ipc/contract';
import type { EventMethod } from '../../shared/ipc/channels';
import type { IpcError, IpcErrorCode } from '../../shared/ipc/errors';
import type {
  AuditEntryView,
  CeremonyDetail,
  CeremonySummary,
  TraceEntry,
} from '../../shared/ipc/model';
import type { SecurityAlert } from '../../shared/ipc/trust-model';
import { sampleAlerts, sampleCeremonies, withTestTargets } from './fake-data';
import { approvalTrace, fakeHash } from './fake-logs';

/** What the ceremonies part shares with the rest of the fake. */
export type FakeContext = {
  readonly scenario: string;
  readonly now: () => number;
  emit<E extends EventMethod>(method: E, payload: PayloadOf<E>): void;
  readonly log: (method: string, request?: unknown) => void;
  readonly reply: <T>(value: T) => Promise<IpcResult<T>>;
  readonly fail: (
    code: IpcErrorCode,
    message: string,
    extra?: number,
  ) => Promise<{ ok: false; error: IpcError }>;
  readonly checkPin: (
    pin: string | undefined,
    reader: string,
    confirmLastTry?: boolean,
  ) => Promise<{ ok: false; error: IpcError }> | undefined;
  readonly addTrace: (entry: Omit<TraceEntry, 'seq' | 'time'>) => void;
  readonly audit: AuditEntryView[];
};

type CeremonyMethods =
  | 'listCeremonies'
  | 'getCeremony'
  | 'approveCeremony'
  | 'declineCeremony'
  | 'cancelPinPad'
  | 'listAlerts'
  | 'reportAlert';

const summaryOf = (c: CeremonyDetail): CeremonySummary => {
  const { custodians: _c, keyChr: _k, offerId: _o, offerDigest: _d, ...summary } = c;
  return summary;
};

/**
 * Test hook: the server replaces ceremony `ceremonyId`'s offer by one stating `purpose`; with
 * `quiet` the list push is withheld (main learnt it before the window did).
 */
export type FakeReplaceOffer = (ceremonyId: string, purpose: string, quiet?: boolean) => void;

/** Creates the ceremonies part of the fake. */
export function createFakeCeremonies(ctx: FakeContext): Pick<CustodianApi, CeremonyMethods> & {
  replaceOffer: FakeReplaceOffer;
  holdKeypad: () => void;
} {
  const { scenario, now, emit, log, reply, fail, checkPin, addTrace, audit } = ctx;
  let ceremonies =
    scenario === 'empty'
      ? []
      : scenario === 'test-root'
        ? withTestTargets(sampleCeremonies(now()))
        : sampleCeremonies(now());
  let alerts: SecurityAlert[] = scenario === 'suspicious' ? sampleAlerts(now()) : [];
  const decline = (id: string) => {
    ceremonies = ceremonies.map((x) =>
      x.id === id
        ? {
            ...x,
            status: 'declined',
            custodians: x.custodians.map((p) => (p.me ? { ...p, state: 'declined' } : p)),
          }
        : x,
    );
    emit('onCeremonies', ceremonies.map(summaryOf));
  };
  const replaceOffer: FakeReplaceOffer = (ceremonyId, purpose, quiet) => {
    // As the server re-offering a ceremony: a new offer id and digest, and what it now states.
    ceremonies = ceremonies.map((x) =>
      x.id === ceremonyId
        ? {
            ...x,
            purpose,
            offerId: `${x.offerId}-r`,
            offerDigest: x.offerDigest.replace(/[0-9a-f]/g, (d) =>
              ((parseInt(d, 16) + 1) % 16).toString(16),
            ),
          }
        : x,
    );
    if (quiet !== true) emit('onCeremonies', ceremonies.map(summaryOf));
  };
  // Test hook: PIN-pad approvals wait for the keypad until the dialog's Cancel ends them.
  let keypadHeld = false;
  let keypad: ((typed: boolean) => void) | undefined;
  return {
    replaceOffer,
    holdKeypad: () => void (keypadHeld = true),
    async cancelPinPad(r) {
      log('cancelPinPad', r);
      const pending = keypad;
      keypad = undefined;
      pending?.(false);
      return reply(pending !== undefined);
    },
    async listCeremonies() {
      log('listCeremonies');
      if (scenario === 'errors') return fail('server-unreachable', 'connect ETIMEDOUT');
      return reply(ceremonies.map(summaryOf));
    },
    async getCeremony(r) {
      log('getCeremony', r);
      const c = ceremonies.find((x) => x.id === r.ceremonyId);
      return c === undefined ? fail('ceremony-not-found', r.ceremonyId) : reply(c);
    },
    async approveCeremony(r) {
      log('approveCeremony', r);
      const c = ceremonies.find((x) => x.id === r.ceremonyId);
      if (c === undefined) return fail('ceremony-not-found', r.ceremonyId);
      if (c.status !== 'waiting') return fail('ceremony-closed', c.status);
      if (Date.parse(c.expiresAt) <= now()) return fail('ceremony-expired', c.expiresAt);
      // Like the engine backend: only the offer the detail showed can be approved.
      if (r.offerId !== c.offerId || r.offerDigest !== c.offerDigest)
        return fail('offer-changed', `offer ${r.offerId} is not the pending one`);
      // Like the engine backend (core/desktop-backend/approvals.ts): a TEST target needs the acknowledgement
      // of exactly its root, a genuine one none, anything else is never approved.
      const chain = c.targetChain;
      if (chain.status === 'untrusted' || chain.status === 'invalid')
        return fail('chain-invalid', `target chain is ${chain.status}`);
      if (chain.status === 'test' && r.acknowledgeTestAnchor !== chain.anchor)
        return fail('test-anchor-unacknowledged', `TEST root ${chain.anchor ?? '?'}`);
      if (chain.status === 'genuine' && r.acknowledgeTestAnchor !== undefined)
        return fail('invalid-request', 'acknowledged a TEST root for a genuine target');
      if (r.pin === undefined && keypadHeld) {
        const typed = await new Promise<boolean>((resolve) => (keypad = resolve));
        if (!typed) {
          // Like core/custodian/card-session.ts: audited as the custodian's cancel.
          audit.push({
            seq: audit.length + 1,
            time: new Date(now()).toISOString(),
            kind: 'pin-cancelled',
            summary: 'PIN entry cancelled by you',
            hash: fakeHash(audit.length + 1),
          });
          return fail('pin-cancelled', 'PIN pad: cancelled by the custodian');
        }
      }
      const bad = checkPin(r.pin, r.reader, r.confirmLastTry === true);
      if (bad !== undefined) return bad;
      const lines = approvalTrace(c.id, scenario === 'hostile');
      for (const entry of lines) addTrace(entry);
      const blocked = lines.filter((e) => e.decision === 'blocked').length;
      const approvals = c.approvals + 1;
      const status = approvals >= c.required ? 'quorum' : 'approved';
      // Like core/desktop-backend/known-devices.ts: the device is known for every other ceremony now.
      const known = {
        approvedBefore: true,
        times: 1,
        lastApprovedAt: new Date(now()).toISOString(),
      };
      ceremonies = ceremonies.map((x) =>
        x.id !== c.id && x.targetDeviceId === c.targetDeviceId
          ? { ...x, targetHistory: known }
          : x.id === c.id
            ? {
                ...x,
                approvals,
                status,
                custodians: x.custodians.map((p) =>
                  p.me ? { ...p, state: 'approved', at: new Date(now()).toISOString() } : p,
                ),
              }
            : x,
      );
      audit.push({
        seq: audit.length + 1,
        time: new Date(now()).toISOString(),
        kind: 'approval',
        summary: `Approved "${c.purpose}"`,
        hash: fakeHash(audit.length + 1),
      });
      emit('onCeremonies', ceremonies.map(summaryOf));
      return reply({
        ceremonyId: c.id,
        outcome: status === 'quorum' ? 'quorum' : 'approved',
        approvals,
        required: c.required,
        blocked,
      });
    },
    async declineCeremony(r) {
      log('declineCeremony', r);
      const c = ceremonies.find((x) => x.id === r.ceremonyId);
      if (c === undefined) return fail('ceremony-not-found', r.ceremonyId);
      if (c.status !== 'waiting') return fail('ceremony-closed', c.status);
      decline(c.id);
      return reply({
        ceremonyId: c.id,
        outcome: 'declined',
        approvals: c.approvals,
        required: c.required,
        blocked: 0,
      });
    },
    async listAlerts() {
      log('listAlerts');
      return reply(alerts);
    },
    async reportAlert(r) {
      log('reportAlert', r);
      const alert = alerts.find((a) => a.id === r.alertId);
      if (alert === undefined) return fail('invalid-request', `no alert ${r.alertId}`);
      const open = ceremonies.find((c) => c.id === alert.ceremonyId && c.status === 'waiting');
      if (!alert.reported && open !== undefined) decline(open.id);
      const marked = { ...alert, reported: true, ceremonyOpen: false };
      alerts = alerts.map((a) => (a.id === marked.id ? marked : a));
      emit('onAlerts', alerts);
      return reply({ alert: marked, declined: !alert.reported && open !== undefined });
    },
  };
}
