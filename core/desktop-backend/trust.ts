/**
 * The desktop backend's trust cues, kept out of the composition root: the devices this
 * custodian approved (per server, known-devices.ts) and the security alerts raised for offers
 * the engine refused (security-alerts.ts), with "Decline & report".
 * @module
 */
import { ipcError, type IpcError } from '../../shared/ipc/errors';
import type { CeremonyResult } from '../../shared/ipc/model';
import type { ReportResult, SecurityAlert, TargetHistory } from '../../shared/ipc/trust-model';
import type { OfferMessage } from '../../shared/protocol/index';
import type { Result } from '../../shared/result';
import type { OfferRejection } from '../custodian/offer-verify';
import type { CeremonyBook } from './ceremony-book';
import { knownDevicesPath, openKnownDevices, type KnownDevices } from './known-devices';
import { AlertBook, reportReason } from './security-alerts';

/** What the trust cues need. */
export type TrustDeps = {
  readonly now: () => Date;
  /** The home directory of a server (undefined: unknown server, memory only). */
  readonly homeOf: (serverId: string) => string | undefined;
  readonly nameOf: (serverId: string) => string;
  readonly book: () => CeremonyBook;
  readonly decline: (r: { ceremonyId: string; reason: string }) => Result<CeremonyResult, IpcError>;
  readonly emitAlerts: (alerts: readonly SecurityAlert[]) => void;
};

/** The trust cues of the backend. */
export type Trust = {
  /** For the ceremony book: what this computer remembers about a device. */
  history(serverId: string, deviceId: string, ceremonyId: string): TargetHistory;
  /** An approval succeeded: remember the device for this server. */
  approved(serverId: string, deviceId: string, ceremonyId: string): void;
  /** The engine refused an offer. */
  offerRejected(serverId: string, offer: OfferMessage, rejection: OfferRejection): void;
  /** The engine disconnected a server that kept sending refused offers. */
  serverSuspicious(serverId: string, detail: string): void;
  /** The ceremonies changed: alerts whose ceremony closed lose their "Decline & report". */
  ceremoniesChanged(): void;
  list(): SecurityAlert[];
  report(alertId: string): Result<ReportResult, IpcError>;
};

/** Creates the trust cues. */
export function createTrust(d: TrustDeps): Trust {
  const known = new Map<string, KnownDevices>();
  const knownOf = (serverId: string) => {
    let k = known.get(serverId);
    if (!k) {
      const home = d.homeOf(serverId);
      k = openKnownDevices(home === undefined ? undefined : knownDevicesPath(home));
      known.set(serverId, k);
    }
    return k;
  };
  const alerts = new AlertBook(d.now);
  const isOpen = (ceremonyId: string) => d.book().get(ceremonyId)?.status === 'waiting';
  const emit = () => d.emitAlerts(alerts.list());
  return {
    history: (serverId, deviceId, ceremonyId) => knownOf(serverId).history(deviceId, ceremonyId),
    approved(serverId, deviceId, ceremonyId) {
      try {
        knownOf(serverId).approved(deviceId, ceremonyId, d.now());
      } catch {
        // Not remembering costs an extra first-time warning later, nothing else.
      }
    },
    offerRejected(serverId, offer, rejection) {
      const open = isOpen(offer.ceremonyId);
      if (alerts.offerRefused(serverId, d.nameOf(serverId), offer, rejection, open)) emit();
    },
    serverSuspicious(serverId, detail) {
      alerts.serverSuspicious(serverId, d.nameOf(serverId), detail);
      emit();
    },
    ceremoniesChanged() {
      if (alerts.refreshOpen(isOpen)) emit();
    },
    list: () => alerts.list(),
    report(alertId) {
      const alert = alerts.get(alertId);
      if (!alert) return { ok: false, error: ipcError('invalid-request', `no alert ${alertId}`) };
      let declined = false;
      if (!alert.reported && alert.ceremonyId !== undefined && isOpen(alert.ceremonyId)) {
        const r = d.decline({ ceremonyId: alert.ceremonyId, reason: reportReason(alert) });
        if (!r.ok && r.error.code !== 'ceremony-closed') return r;
        declined = r.ok;
      }
      const marked = alerts.markReported(alertId)!;
      emit();
      return { ok: true, value: { alert: marked, declined } };
    },
  };
}
