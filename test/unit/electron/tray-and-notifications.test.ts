import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CeremonySummary, NavigateRequest } from '../../../shared/ipc/model';
import { displayText } from '../../../electron/main/display-text';
import {
  alertNotices,
  ceremonyNotices,
  createNotificationService,
} from '../../../electron/main/notification-service';
import type { SecurityAlert } from '../../../shared/ipc/trust-model';
import { crc32, encodePng } from '../../../electron/main/png';
import { badgeText, renderTrayIcon } from '../../../electron/main/tray-icon';
import { createTrayService, type TrayMenuItem } from '../../../electron/main/tray-service';

/** The tests' clock: half-way through the fixtures' ceremonies (they expire at 11:00). */
const NOW = Date.parse('2026-11-27T10:30:00.000Z');

const ceremony = (
  id: string,
  status: CeremonySummary['status'],
  extra: Partial<CeremonySummary> = {},
): CeremonySummary => ({
  id,
  serverId: 's',
  purpose: `Purpose ${id}`,
  requester: 'Bob',
  targetDeviceId: 'DECC0101782',
  targetLabel: 'Rack B',
  required: 2,
  total: 3,
  approvals: 0,
  status,
  createdAt: '2026-11-27T10:00:00.000Z',
  expiresAt: '2026-11-27T11:00:00.000Z',
  ...extra,
});

describe('tray icon', () => {
  it('badge text counts up to 9, then 9+', () => {
    expect([0, -1, Number.NaN, 1, 9, 10, 250].map(badgeText)).toEqual([
      '',
      '',
      '',
      '1',
      '9',
      '9+',
      '9+',
    ]);
  });

  it('draws a red badge only when something waits, different per count', () => {
    const isRed = (b: ReturnType<typeof renderTrayIcon>) => {
      for (let i = 0; i < b.rgba.length; i += 4) {
        if (b.rgba[i] === 200 && b.rgba[i + 1] === 40 && b.rgba[i + 2] === 40) return true;
      }
      return false;
    };
    const none = renderTrayIcon(0);
    const one = renderTrayIcon(1);
    const two = renderTrayIcon(2);
    expect(none.rgba).toHaveLength(32 * 32 * 4);
    expect(isRed(none)).toBe(false);
    expect(isRed(one)).toBe(true);
    expect(Buffer.from(one.rgba).equals(Buffer.from(two.rgba))).toBe(false);
    expect(isRed(renderTrayIcon(12, 16))).toBe(true);
    expect(() => renderTrayIcon(1, 8)).toThrow(RangeError);
  });

  it('encodes a valid PNG whose pixels round-trip', () => {
    const icon = renderTrayIcon(3);
    const png = encodePng(icon.width, icon.height, icon.rgba);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    let at = 8;
    let idat: Uint8Array = new Uint8Array(0);
    const types: string[] = [];
    while (at < png.length) {
      const len = view.getUint32(at);
      const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
      types.push(type);
      expect(view.getUint32(at + 8 + len), `crc of ${type}`).toBe(
        crc32(png.subarray(at + 4, at + 8 + len)),
      );
      if (type === 'IDAT') idat = png.subarray(at + 8, at + 8 + len);
      at += 12 + len;
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    const raw = new Uint8Array(inflateSync(idat));
    const row = icon.width * 4 + 1;
    for (let y = 0; y < icon.height; y++) {
      expect(raw[y * row]).toBe(0);
      expect(
        Buffer.from(raw.subarray(y * row + 1, (y + 1) * row)).equals(
          Buffer.from(icon.rgba.subarray(y * icon.width * 4, (y + 1) * icon.width * 4)),
        ),
      ).toBe(true);
    }
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(RangeError);
  });
});

describe('tray service', () => {
  function setup() {
    const calls: { image: number[]; tip: string[]; title: string[]; menus: TrayMenuItem[][] } = {
      image: [],
      tip: [],
      title: [],
      menus: [],
    };
    const opened: (NavigateRequest | undefined)[] = [];
    let quit = 0;
    let click: (() => void) | undefined;
    const service = createTrayService<number, TrayMenuItem[]>({
      tray: {
        setImage: (i) => calls.image.push(i),
        setToolTip: (t) => calls.tip.push(t),
        setTitle: (t) => calls.title.push(t),
        setContextMenu: (m) => calls.menus.push(m),
        on: (_e, l) => (click = l),
        destroy: () => {},
      },
      image: (b) => b.rgba.reduce((n, v) => n + v, 0),
      menu: (items) => [...items],
      open: (nav) => opened.push(nav),
      quit: () => quit++,
      now: () => NOW,
    });
    return { service, calls, opened, quitCount: () => quit, click: () => click?.() };
  }

  it('shows the number waiting in icon, title and tooltip', () => {
    const t = setup();
    expect(t.service.pending).toBe(0);
    expect(t.calls.tip.at(-1)).toBe('Custodian: nothing waiting');
    t.service.update([ceremony('a', 'waiting'), ceremony('b', 'waiting'), ceremony('c', 'quorum')]);
    expect(t.service.pending).toBe(2);
    expect(t.calls.title.at(-1)).toBe('2');
    expect(t.calls.tip.at(-1)).toBe(
      'Custodian: 2 ceremonies wait for you — the next expires in 30 min',
    );
    expect(t.calls.image[0]).not.toBe(t.calls.image[1]);
  });

  it('menu items open the ceremony, the window, or quit', () => {
    const t = setup();
    t.service.update([ceremony('a', 'waiting', { purpose: 'Sign\u202e CRL\n' })]);
    const menu = t.calls.menus.at(-1) ?? [];
    const labels = menu.map((i) => ('label' in i ? i.label : '---'));
    expect(labels).toEqual(['Open Custodian', '---', 'Review: Sign CRL', '---', 'Quit Custodian']);
    for (const item of menu) if ('click' in item) item.click?.();
    expect(t.opened).toEqual([undefined, { view: 'ceremony', ceremonyId: 'a' }]);
    expect(t.quitCount()).toBe(1);
    t.click();
    expect(t.opened).toHaveLength(3);
  });
});

describe('ceremony notices', () => {
  it('announces new waiting ceremonies, quorum and expiry, nothing else', () => {
    const first = ceremonyNotices(
      undefined,
      [ceremony('a', 'waiting'), ceremony('b', 'quorum')],
      NOW,
    );
    expect(first.map((n) => [n.kind, n.ceremonyId])).toEqual([['waiting', 'a']]);
    const before = [ceremony('a', 'waiting'), ceremony('b', 'approved'), ceremony('c', 'waiting')];
    const after = [
      ceremony('a', 'waiting'),
      ceremony('b', 'quorum', { approvals: 2 }),
      ceremony('c', 'expired', { approvals: 1 }),
      ceremony('d', 'waiting'),
    ];
    const notices = ceremonyNotices(before, after, NOW);
    expect(notices.map((n) => [n.kind, n.ceremonyId])).toEqual([
      ['quorum', 'b'],
      ['expired', 'c'],
      ['waiting', 'd'],
    ]);
    expect(notices[0]?.body).toContain('2 of 3');
    expect(ceremonyNotices(after, after, NOW)).toEqual([]);
  });

  it('shows at most three, respects the setting and opens the ceremony on click', () => {
    const shown: { title: string; body: string; click?: () => void }[] = [];
    const opened: NavigateRequest[] = [];
    let enabled = false;
    const service = createNotificationService({
      create: (o) => {
        const entry: { title: string; body: string; click?: () => void } = { ...o };
        shown.push(entry);
        return { on: (_e, l) => (entry.click = l), show: () => {} };
      },
      isSupported: () => true,
      enabled: () => enabled,
      open: (nav) => opened.push(nav),
      now: () => NOW,
    });
    expect(service.update([ceremony('a', 'waiting')])).toEqual([]);
    enabled = true;
    const many = ['b', 'c', 'd', 'e', 'f'].map((id) => ceremony(id, 'waiting'));
    expect(service.update([ceremony('a', 'waiting'), ...many])).toHaveLength(3);
    expect(shown).toHaveLength(3);
    shown[1]?.click?.();
    expect(opened).toEqual([{ view: 'ceremony', ceremonyId: 'c' }]);
  });

  it('display text strips control and bidi characters and clips', () => {
    expect(displayText('a\u0000b\u202ec\u2066d\n\te')).toBe('a b c d e');
    expect(displayText('x'.repeat(200), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('trust cues in tray and notifications', () => {
  const notGenuine = { targetChain: { status: 'untrusted' as const, detail: 'unknown root' } };

  it('never counts or announces a non-genuine target or one past its expiry here', () => {
    const opened: (NavigateRequest | undefined)[] = [];
    const tips: string[] = [];
    const tray = createTrayService<number, TrayMenuItem[]>({
      tray: {
        setImage: () => {},
        setToolTip: (t) => tips.push(t),
        setTitle: () => {},
        setContextMenu: () => {},
        on: () => {},
        destroy: () => {},
      },
      image: () => 0,
      menu: (items) => [...items],
      open: (nav) => opened.push(nav),
      quit: () => {},
      now: () => NOW,
    });
    const list = [
      ceremony('a', 'waiting', notGenuine),
      ceremony('b', 'waiting', { targetChain: { status: 'invalid' } }),
      ceremony('c', 'waiting', { expiresAt: '2026-11-27T10:29:59.000Z' }),
      ceremony('d', 'waiting', { targetChain: { status: 'test', anchor: 'UTSRCACC100001' } }),
    ];
    tray.update(list);
    expect(tray.pending).toBe(1);
    expect(tips.at(-1)).toBe('Custodian: 1 ceremony waits for you — the next expires in 30 min');
    expect(ceremonyNotices(undefined, list, NOW).map((n) => n.ceremonyId)).toEqual(['d']);
  });

  it('announces each security alert once, urgently, with the out-of-band advice', () => {
    const created: { title: string; body: string; urgency?: string; timeoutType?: string }[] = [];
    const clicks: (() => void)[] = [];
    const opened: NavigateRequest[] = [];
    const service = createNotificationService({
      create: (o) => {
        created.push(o);
        return { on: (_e, l) => clicks.push(l), show: () => {} };
      },
      isSupported: () => true,
      enabled: () => true,
      open: (nav) => opened.push(nav),
      now: () => NOW,
    });
    const alert: SecurityAlert = {
      id: 'a-1',
      kind: 'offer-refused',
      serverId: 's',
      serverName: 'Acme PKI',
      at: '2026-11-27T10:00:00.000Z',
      code: 'script-refused',
      title: 'Refused: the server asked your card for more than one approval',
      reason: 'Blocked before reaching the card.',
      detail: 'step 2',
      ceremonyId: 'c-1',
      ceremonyOpen: true,
      reported: false,
    };
    expect(service.alerts([alert])).toHaveLength(1);
    expect(created[0]).toMatchObject({ urgency: 'critical', timeoutType: 'never' });
    expect(created[0]?.title).toContain('Security alert');
    expect(created[0]?.body).toMatch(/security officer by phone or in person/);
    expect(created[0]?.body).toContain('Acme PKI');
    // The same alert again (e.g. another alert arrives): not shown twice; a reported one never.
    const second = { ...alert, id: 'a-2' };
    expect(service.alerts([second, alert]).map((n) => n.title)).toHaveLength(1);
    expect(service.alerts([{ ...alert, id: 'a-3', reported: true }])).toEqual([]);
    clicks[0]?.();
    expect(opened).toEqual([{ view: 'ceremonies' }]);
    expect(alertNotices(new Set(['a-1']), [alert])).toEqual([]);
  });
});

describe('notifications under time pressure', () => {
  type Made = {
    title: string;
    body: string;
    urgency?: string;
    timeoutType?: string;
    silent?: boolean;
  };
  function service(over: { dnd?: boolean; sound?: boolean; now?: () => number } = {}) {
    const made: Made[] = [];
    const opened: NavigateRequest[] = [];
    const clicks: (() => void)[] = [];
    const s = createNotificationService({
      create: (o) => {
        made.push(o);
        return { on: (_e, l) => clicks.push(l), show: () => {} };
      },
      isSupported: () => true,
      enabled: () => true,
      open: (nav) => opened.push(nav),
      now: over.now ?? (() => NOW),
      doNotDisturb: () => over.dnd === true,
      sound: () => over.sound !== false,
      reminderMinutes: () => [10, 2],
    });
    return { s, made, opened, clicks };
  }

  it('reminds 10 and 2 minutes before expiry, each once, urgent', () => {
    let now = NOW; // 30 min left
    const t = service({ now: () => now });
    t.s.update([ceremony('a', 'waiting')]);
    expect(t.made.map((m) => m.title)).toEqual(['A ceremony waits for your approval']);
    now = Date.parse('2026-11-27T10:49:00.000Z');
    expect(t.s.tick()).toEqual([]);
    now = Date.parse('2026-11-27T10:51:00.000Z');
    expect(t.s.tick().map((n) => n.title)).toEqual(['9 min left to approve']);
    expect(t.s.tick()).toEqual([]);
    now = Date.parse('2026-11-27T10:58:30.000Z');
    const last = t.s.tick();
    expect(last.map((n) => n.title)).toEqual(['2 min left to approve']);
    expect(t.made.at(-1)).toMatchObject({ urgency: 'critical', timeoutType: 'never' });
    now = Date.parse('2026-11-27T11:00:01.000Z');
    expect(t.s.tick()).toEqual([]);
  });

  it('cancelled, TEST root in the words, quorum only for one I approved', () => {
    const before = [ceremony('a', 'waiting'), ceremony('b', 'waiting'), ceremony('c', 'approved')];
    const after = [
      ceremony('a', 'cancelled'),
      ceremony('b', 'quorum', { approvals: 2 }),
      ceremony('c', 'quorum', { approvals: 2 }),
      ceremony('t', 'waiting', { targetChain: { status: 'test', anchor: 'UTSRCACC100001' } }),
    ];
    const notices = ceremonyNotices(before, after, NOW);
    expect(notices.map((n) => [n.kind, n.ceremonyId])).toEqual([
      ['cancelled', 'a'],
      ['quorum', 'c'],
      ['waiting', 't'],
    ]);
    expect(notices[2]?.title).toContain('TEST');
    expect(notices[2]?.body).toContain('TEST root UTSRCACC100001, not production');
    expect(notices[1]?.body).not.toMatch(/unlocked/);
  });

  it('more than three at once: two and one summary "and 4 more"', () => {
    const t = service();
    const shown = t.s.update(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => ceremony(id, 'waiting')));
    expect(shown.map((n) => n.title).at(-1)).toBe('and 4 more');
    expect(t.made).toHaveLength(3);
    t.clicks[2]?.();
    expect(t.opened).toEqual([{ view: 'ceremonies' }]);
  });

  it('do not disturb lets only security alerts through; sound off is silent', () => {
    const t = service({ dnd: true, sound: false });
    expect(t.s.update([ceremony('a', 'waiting')])).toEqual([]);
    const alert: SecurityAlert = {
      id: 'a-1',
      kind: 'server-suspicious',
      serverId: 's',
      serverName: 'Acme',
      at: '2026-11-27T10:00:00.000Z',
      code: 'server-suspicious',
      title: 'Disconnected from Acme',
      reason: 'It kept sending refused requests.',
      detail: '5 in 60 s',
      ceremonyOpen: false,
      reported: false,
    };
    expect(t.s.alerts([alert])).toHaveLength(1);
    expect(t.made).toEqual([expect.objectContaining({ silent: true, urgency: 'critical' })]);
  });

  it('tray: not connected is grey and "unknown", never "nothing waiting"', () => {
    const tips: string[] = [];
    const images: number[] = [];
    const tray = createTrayService<number, TrayMenuItem[]>({
      tray: {
        setImage: (i) => images.push(i),
        setToolTip: (x) => tips.push(x),
        setTitle: () => {},
        setContextMenu: () => {},
        on: () => {},
        destroy: () => {},
      },
      image: (b) => b.rgba.reduce((n, v) => n + v, 0),
      menu: (items) => [...items],
      open: () => {},
      quit: () => {},
      now: () => NOW,
    });
    const idle = images.at(-1);
    tray.setConnection(false);
    expect(tips.at(-1)).toMatch(/not connected/);
    expect(tips.at(-1)).not.toMatch(/nothing waiting/);
    expect(images.at(-1)).not.toBe(idle);
    expect(renderTrayIcon(0, 32, true).rgba).not.toEqual(renderTrayIcon(0, 32).rgba);
    tray.setConnection(true);
    expect(tips.at(-1)).toBe('Custodian: nothing waiting');
  });
});
