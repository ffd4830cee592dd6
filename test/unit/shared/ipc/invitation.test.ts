import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressOfInvitationUrl, parseInvitation } from '../../../../shared/ipc/invitation';
import { inviteSchema } from '../../../../shared/ipc/contract';
import { displayTextSchema, secretSchema } from '../../../../shared/protocol/fields';
import { LIMITS } from '../../../../shared/protocol/limits';
import { inviteLetter } from '../../../../server/admin-cli/admin-commands';

const TOKEN = 'q7Vd2mXo9LrK4tYz8WcB1nQe_-abc';
const FP =
  'B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84:B1:94:6A:C9:24:92:D2:34:7C:62:35:B4:D2:61:11:84';
const letter = (over: Partial<Parameters<typeof inviteLetter>[0]> = {}) =>
  `invite for bob at target t1:\n${inviteLetter({
    url: 'wss://custody.acme.example:8443/ws',
    fingerprint: FP,
    serverName: 'Acme PKI',
    token: TOKEN,
    expiresAt: '2026-12-09T10:00:00.000Z',
    ...over,
  })}`;

describe('the invitation as the custodian pastes it', () => {
  it('reads the letter custodian-server prints: name, address, fingerprint, token', () => {
    const r = parseInvitation(letter());
    expect(r).toEqual({
      ok: true,
      value: {
        token: TOKEN,
        serverName: 'Acme PKI',
        url: 'wss://custody.acme.example:8443/ws',
        fingerprint: FP.replace(/:/g, ''),
      },
    });
    expect(inviteSchema.safeParse(letter()).success).toBe(true);
    expect(addressOfInvitationUrl('wss://custody.acme.example:8443/ws')).toBe(
      'https://custody.acme.example:8443',
    );
  });

  it('a bare token is still an invitation, without a name', () => {
    expect(parseInvitation(`  ${TOKEN}\n`)).toEqual({ ok: true, value: { token: TOKEN } });
    // A loopback server without TLS prints no fingerprint.
    const plain = parseInvitation(letter({ fingerprint: undefined, serverName: undefined }));
    expect(plain.ok && plain.value).toEqual({
      token: TOKEN,
      url: 'wss://custody.acme.example:8443/ws',
    });
  });

  it('refuses a server name that could fake or hide what the custodian reads', () => {
    const raw = (name: string) =>
      letter().replace('server name:      Acme PKI', `server name: ${name}`);
    for (const name of [
      'Acme\u001b[31m PKI', // terminal escape
      'Acme \u202eIKP', // bidi override
      'Acme\u200bPKI', // zero-width space
      'A'.repeat(65), // too long
      '',
    ]) {
      const r = parseInvitation(raw(name));
      expect(r.ok, JSON.stringify(name)).toBe(false);
      expect(inviteSchema.safeParse(raw(name)).success).toBe(false);
    }
    expect(parseInvitation(raw('Acme PKI — Zürich')).ok).toBe(true);
  });

  it('refuses letters without a token, with a field twice, or a bad fingerprint or URL', () => {
    const bad = [
      letter().replace(/enrollment token:.*\n/, ''),
      `${letter()}server name: Evil Corp\n`,
      letter({ fingerprint: 'AB:CD' }),
      letter({ url: 'ftp://custody.acme.example' }),
      letter({ token: 'short' }),
      `${letter()}${' '.repeat(4096)}`,
    ];
    for (const text of bad) expect(parseInvitation(text).ok).toBe(false);
  });

  it("the renderer's zod-free checks agree with the protocol's schemas", () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_\-!. ]{0,300}$/);
    fc.assert(
      fc.property(token, (t) => {
        fc.pre(!/[:\n\r]/.test(t.trim()));
        expect(parseInvitation(t).ok).toBe(secretSchema.safeParse(t.trim()).success);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (name) => {
        fc.pre(!/[\r\n]/.test(name));
        const text = `server name: ${name}\nenrollment token: ${TOKEN}`;
        const trimmed = name.trim();
        const r = parseInvitation(text);
        // The letter's value is the line's text without surrounding blanks.
        expect(r.ok).toBe(displayTextSchema(LIMITS.serverNameChars).safeParse(trimmed).success);
      }),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (s) => {
        const r = parseInvitation(s);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});
