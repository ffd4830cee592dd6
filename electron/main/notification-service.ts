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
  readonly kind:
    'waiting' | 'quorum' | 'expired' | 'cancelled' | 'reminder' | 'security' | 'summary';
  /** The ceremony a click opens (security alerts without one open the list). */
  readonly ceremonyId?: string;
  readonly title: string;
  readonly body: string;
  /** Stays until dismissed, critical urgency on Linux. */
  readonly urgent?: boolean;
};

/** The TEST-root wording a notification about a TEST target starts with. */
function testPrefix(c: CeremonySummary): string {
  return c.targetChain?.status === 'test'
    ? `TEST root ${c.targetChain.anchor ?? ''}, not production: `.replace(' ,', ',')
    : '';
}

/**
 * Reminders before expiry: for each waiting ceremony and each configured lead time, once, when
 * the time left first drops to it or below (while still open). `fired` keeps `id@minutes`.
 */
export function reminderNotices(
  list: readonly CeremonySummary[],
  minutes: readonly number[],
  fired: Set<string>,
  now: number,
): CeremonyNotice[] {
  const notices: CeremonyNotice[] = [];
  for (const c of list) {
    if (!isActionable(c, now)) continue;
    const left = Date.parse(c.expiresAt) - now;
    // The smallest lead time reached (one notice per step, never a burst of all steps).
    const due = [...minutes].sort((a, b) => a - b).find((m) => left <= m * 60_000);
    if (due === undefined || fired.has(`${c.id}@${due}`)) continue;
    for (const m of minutes) if (m >= due) fired.add(`${c.id}@${m}`);
    const mins = Math.max(1, Math.ceil(left / 60_000));
    notices.push({
      kind: 'reminder',
      ceremonyId: c.id,
      title: `${mins} min left to approve`,
      body: `${testPrefix(c)}${displayText(c.purpose, 100)} (${displayText(c.targetLabel, 60)}) expires in ${mins} min.`,
      urgent: true,
    });
  }
  return notices;
}

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
        title:
          c.targetChain?.status === 'test'
            ? 'TEST target: a ceremony waits for your approval'
            : 'A ceremony waits for your approval',
        body: `${testPrefix(c)}${purpose} (${target}, ${c.approvals} of ${c.required} approvals)`,
      });
    } else if (previous !== undefined && old !== undefined && old.status !== c.status) {
      // Quorum: for one this custodian approved (others only matter in the app).
      if (c.status === 'quorum' && old.status === 'approved') {
        notices.push({
          kind: 'quorum',
          ceremonyId: c.id,
          title: 'Quorum reached',
          // Not "unlocked": the app only knows the server's count (docs/desktop-app.md).
          body: `${purpose}: quorum of ${c.required} of ${c.total} custodians reached for ${target}, as the server reports.`,
        });
      } else if (c.status === 'cancelled' && old.status === 'waiting') {
        notices.push({
          kind: 'cancelled',
          ceremonyId: c.id,
          title: 'A ceremony was cancelled',
          body: `${purpose} (${target}) no longer needs your approval.`,
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
    silent?: boolean;
  }) => NotificationPort;
  /** Do not disturb: only security alerts (default off). */
  readonly doNotDisturb?: () => boolean;
  /** Play the system sound (default on). */
  readonly sound?: () => boolean;
  /** Lead times of the expiry reminders in minutes (default none). */
  readonly reminderMinutes?: () => readonly number[];
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
  /** Call periodically (main: every 20 s): expiry reminders for the last list. */
  tick(): CeremonyNotice[];
} {
  let previous: readonly CeremonySummary[] | undefined;
  const seenAlerts = new Set<string>();
  const firedReminders = new Set<string>();
  const now = () => (deps.now ?? Date.now)();
  // Keep references so notifications are not garbage-collected before a click.
  const live = new Set<NotificationPort>();
  const show = (all: readonly CeremonyNotice[]) => {
    if (!deps.enabled() || !deps.isSupported()) return [];
    const notices = deps.doNotDisturb?.() === true ? all.filter((n) => n.kind === 'security') : all;
    // More than three at once: the first two and one summary ("and 4 more").
    const shown: CeremonyNotice[] =
      notices.length <= MAX_PER_UPDATE
        ? [...notices]
        : [
            ...notices.slice(0, MAX_PER_UPDATE - 1),
            {
              kind: 'summary',
              title: `and ${notices.length - (MAX_PER_UPDATE - 1)} more`,
              body: 'Open Custodian to see every ceremony that needs you.',
              urgent: notices.slice(MAX_PER_UPDATE - 1).some((n) => n.urgent === true),
            },
          ];
    const silent = deps.sound?.() === false;
    for (const n of shown) {
      const note = deps.create({
        title: n.title,
        body: n.body,
        ...(n.urgent === true
          ? { urgency: 'critical' as const, timeoutType: 'never' as const }
          : {}),
        ...(silent ? { silent: true } : {}),
      });
      live.add(note);
      note.on('click', () => {
        live.delete(note);
        deps.open(
          n.ceremonyId === undefined || n.kind === 'security' || n.kind === 'summary'
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
      const at = now();
      const notices = ceremonyNotices(previous, ceremonies, at);
      // A request that arrives already inside a reminder window is not also "reminded".
      const reminders = reminderNotices(
        ceremonies,
        deps.reminderMinutes?.() ?? [],
        firedReminders,
        at,
      );
      const fresh = new Set(notices.map((n) => n.ceremonyId));
      previous = ceremonies;
      return show([...notices, ...reminders.filter((r) => !fresh.has(r.ceremonyId))]);
    },
    tick() {
      if (previous === undefined) return [];
      return show(reminderNotices(previous, deps.reminderMinutes?.() ?? [], firedReminders, now()));
    },
    alerts(alerts) {
      const notices = alertNotices(seenAlerts, alerts);
      for (const a of alerts) seenAlerts.add(a.id);
      return show(notices);
    },
  };
}
