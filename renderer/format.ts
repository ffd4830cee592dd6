/**
 * Formatting for the views: times, countdowns, status words. Pure, so tested in Node.
 * @module
 */
import type { CeremonyStatus, ChainStatus, PinStatusView } from '../shared/ipc/model';

/** "42 min", "3 h 10 min", "1 day 2 h", or "expired". */
export function formatRemaining(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return 'expired';
  const totalSec = Math.floor(ms / 1000);
  if (totalSec < 60) return `${totalSec} s`;
  const min = Math.floor(totalSec / 60);
  if (min < 60) return `${min} min ${String(totalSec % 60).padStart(2, '0')} s`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  const d = Math.floor(h / 24);
  return `${d} ${d === 1 ? 'day' : 'days'} ${h % 24} h`;
}

/** Local date and time, e.g. "27 Nov 2026, 14:05:09". */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', {
    day: '2-digit',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Status word as four hex digits. */
export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Hex with a space every byte, clipped for display. */
export function spacedHex(hex: string, maxBytes = 24): string {
  const bytes = hex.match(/../g) ?? [];
  const shown = bytes.slice(0, maxBytes).join(' ');
  return bytes.length > maxBytes ? `${shown} … (${bytes.length} bytes)` : shown;
}

/** Ceremony status in words, and its tone for the badge. */
export function ceremonyStatusText(status: CeremonyStatus): { text: string; tone: Tone } {
  switch (status) {
    case 'waiting':
      return { text: 'Waiting for you', tone: 'attention' };
    case 'approved':
      return { text: 'You approved', tone: 'good' };
    case 'declined':
      return { text: 'You declined', tone: 'neutral' };
    case 'quorum':
      return { text: 'Quorum reached', tone: 'good' };
    case 'expired':
      return { text: 'Expired', tone: 'neutral' };
    case 'cancelled':
      return { text: 'Cancelled', tone: 'neutral' };
    case 'failed':
      return { text: 'Failed', tone: 'danger' };
  }
}

/** Badge tones. */
export type Tone = 'good' | 'attention' | 'danger' | 'neutral';

/** Chain status in words. */
export function chainText(chain: ChainStatus): { text: string; tone: Tone } {
  switch (chain.status) {
    case 'genuine':
      return { text: `Genuine, chains to ${chain.anchor ?? 'a trusted root'}`, tone: 'good' };
    case 'test':
      return {
        text: `Test device, chains to test root ${chain.anchor ?? ''}`.trim(),
        tone: 'danger',
      };
    case 'untrusted':
      return { text: 'Not genuine: unknown root', tone: 'danger' };
    case 'invalid':
      return { text: 'Certificate chain is broken', tone: 'danger' };
  }
}

/** PIN status in words. */
export function pinText(pin: PinStatusView): { text: string; tone: Tone } {
  const tries = pin.retries;
  switch (pin.state) {
    case 'verified':
      return { text: 'Verified in this session', tone: 'good' };
    case 'not-verified':
      if (tries === 1) return { text: 'Set — last try left', tone: 'danger' };
      return { text: tries === undefined ? 'Set' : `Set — ${tries} tries left`, tone: 'good' };
    case 'blocked':
      return { text: 'Blocked — ask your security officer', tone: 'danger' };
    case 'transport-pin':
      return { text: 'Transport PIN — change it before use', tone: 'attention' };
    case 'not-initialized':
      return { text: 'Card not initialized', tone: 'danger' };
    case 'pka-active':
      return { text: 'Card protected by public key authentication', tone: 'attention' };
  }
}

/** Groups a fingerprint in blocks of four for comparing by eye. */
export function groupFingerprint(hex: string): string {
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

const AUDIT_KINDS: Readonly<Record<string, string>> = {
  approval: 'Approval',
  decline: 'Decline',
  'apdu-forwarded': 'APDU forwarded',
  'apdu-blocked': 'APDU blocked',
  'pin-verified': 'PIN verified',
  'pin-failed': 'Wrong PIN',
  'pin-cancelled': 'PIN entry cancelled',
  'offer-rejected': 'Request refused',
  'offers-rejected-summary': 'Requests refused (summary)',
  'server-suspicious': 'Server suspicious',
  enrollment: 'Enrollment',
  connection: 'Connection',
  error: 'Error',
  'log-recovered': 'Log recovered',
};

/** An audit entry kind (shared/audit/audit-chain.ts) in words; unknown kinds as they are. */
export function auditKindText(kind: string): string {
  return AUDIT_KINDS[kind] ?? kind;
}
