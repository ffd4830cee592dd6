/**
 * OS notifications for the moments a custodian must know about: a ceremony waits for them,
 * a quorum is reached, a ceremony expired. Clicking one opens that ceremony. The decision of
 * what to announce is a pure diff ({@link ceremonyNotices}); the service only shows them.
 * @module
 */
import { isActionable } from '../../shared/ipc/ceremony-rules';
import type { CeremonySummary, NavigateRequest } from '../../shared/ipc/model';
import type { SecurityAlert } from '../../shared/ipc/trust-model';
import { displayText } from './display-text';

/** One notification to show. */
export type CeremonyNotice = {
  readonly kind: 'waiting' | 'quorum' | 'expired' | 'security';
  /** The ceremony a click opens (security alerts without one open the list). */
  readonly ceremonyId?: string;
  readonly title: string;
  readonly body: string;
  /** Stays until dismissed, critical urgency on Linux. */
  readonly urgent?: boolean;
};

/**
 * Notices for security alerts not seen before (docs/desktop-app.md "Trust cues"): urgent, with
 * what was refused, why, and the advice to tell the security officer out of band.
 */
export function alertNotices(
  seen: ReadonlySet<string>,
  alerts: readonly SecurityAlert[],
): CeremonyNotice[] {
  return alerts
    .filter((a) => !seen.has(a.id) && !a.reported)
    .map((a) => ({
      kind: 'security' as const,
      ...(a.ceremonyId === undefined ? {} : { ceremonyId: a.ceremonyId }),
      title: displayText(`Security alert: ${a.title}`, 120),
      body: displayText(
        `${a.reason} Server: ${a.serverName}. Tell your security officer by phone or in person, not through this server.`,
        300,
      ),
      urgent: true,
    }));
}

/**
 * What changed between two ceremony lists that deserves a notification. `previous`
 * undefined means "first list after start": only waiting ceremonies are announced then.
 */
export function ceremonyNotices(
  previous: readonly CeremonySummary[] | undefined,
  next: readonly CeremonySummary[],
  now: number = Date.now(),
): CeremonyNotice[] {
  const before = new Map((previous ?? []).map((c) => [c.id, c]));
  const notices: CeremonyNotice[] = [];
  for (const c of next) {
    const old = before.get(c.id);
    const purpose = displayText(c.purpose, 100);
    const target = displayText(c.targetLabel, 60);
    // A target whose chain did not check out is never "waiting for you" (ceremony-rules.ts).
    if (isActionable(c, now) && old?.status !== 'waiting') {
      notices.push({
        kind: 'waiting',
        ceremonyId: c.id,
        title: 'A ceremony waits for your approval',
        body: `${purpose} (${target}, ${c.approvals} of ${c.required} approvals)`,
      });
    } else if (previous !== undefined && old !== undefined && old.status !== c.status) {
      if (c.status === 'quorum') {
        notices.push({
          kind: 'quorum',
          ceremonyId: c.id,
          title: 'Quorum reached',
          body: `${purpose}: ${c.required} of ${c.total} custodians approved. ${target} is unlocked.`,
        });
      } else if (c.status === 'expired') {
        notices.push({
          kind: 'expired',
          ceremonyId: c.id,
          title: 'A ceremony expired',
          body: `${purpose} expired with ${c.approvals} of ${c.required} approvals.`,
        });
      }
    }
  }
  return notices;
}

/** The slice of an Electron Notification the service uses. */
export type NotificationPort = {
  on(event: 'click', listener: () => void): unknown;
  show(): void;
};

/** What the notification service needs. */
export type NotificationDeps = {
  readonly create: (options: {
    title: string;
    body: string;
    urgency?: 'critical';
    timeoutType?: 'never';
  }) => NotificationPort;
  readonly isSupported: () => boolean;
  /** The user's setting. */
  readonly enabled: () => boolean;
  readonly open: (nav: NavigateRequest) => void;
  /** The clock for local expiry (default Date.now). */
  readonly now?: () => number;
};

/** Most notifications shown for one update (a flood helps nobody). */
const MAX_PER_UPDATE = 3;

/** Creates the service; call `update` with every new ceremony list. */
export function createNotificationService(deps: NotificationDeps): {
  update(ceremonies: readonly CeremonySummary[]): CeremonyNotice[];
  /** Shows every security alert not seen before (urgent). */
  alerts(alerts: readonly SecurityAlert[]): CeremonyNotice[];
} {
  let previous: readonly CeremonySummary[] | undefined;
  const seenAlerts = new Set<string>();
  // Keep references so notifications are not garbage-collected before a click.
  const live = new Set<NotificationPort>();
  const show = (notices: readonly CeremonyNotice[]) => {
    if (!deps.enabled() || !deps.isSupported()) return [];
    const shown = notices.slice(0, MAX_PER_UPDATE);
    for (const n of shown) {
      const note = deps.create({
        title: n.title,
        body: n.body,
        ...(n.urgent === true
          ? { urgency: 'critical' as const, timeoutType: 'never' as const }
          : {}),
      });
      live.add(note);
      note.on('click', () => {
        live.delete(note);
        deps.open(
          n.ceremonyId === undefined || n.kind === 'security'
            ? { view: 'ceremonies' }
            : { view: 'ceremony', ceremonyId: n.ceremonyId },
        );
      });
      note.show();
    }
    while (live.size > 20) live.delete(live.values().next().value as NotificationPort);
    return shown;
  };
  return {
    update(ceremonies) {
      const notices = ceremonyNotices(previous, ceremonies, (deps.now ?? Date.now)());
      previous = ceremonies;
      return show(notices);
    },
    alerts(alerts) {
      const notices = alertNotices(seenAlerts, alerts);
      for (const a of alerts) seenAlerts.add(a.id);
      return show(notices);
    },
  };
}
