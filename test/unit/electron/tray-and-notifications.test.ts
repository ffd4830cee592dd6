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
    expect(t.calls.tip.at(-1)).toBe('Custodian: 2 ceremonies wait for you');
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
    expect(tips.at(-1)).toBe('Custodian: 1 ceremony waits for you');
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
