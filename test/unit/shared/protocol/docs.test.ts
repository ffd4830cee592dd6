import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FIREWALL_RULES, FIREWALL_DENY_SW } from '../../../../shared/policy/firewall-rules';
import { CLOSE_CODES, ERROR_CODES } from '../../../../shared/protocol/errors';
import { CLIENT_MESSAGE_SCHEMAS } from '../../../../shared/protocol/client-messages';
import {
  SERVER_MESSAGE_SCHEMAS,
  CEREMONY_STATES,
} from '../../../../shared/protocol/server-messages';
import { DECLINE_REASONS } from '../../../../shared/protocol/client-messages';
import { HEARTBEAT, LIMITS } from '../../../../shared/protocol/limits';
import { parseClientMessage, parseServerMessage } from '../../../../shared/protocol/codec';
import { brainpoolP256r1 } from '@noble/curves/misc.js';
import { asciiBytes, concatBytes, fromHex } from '../../../../shared/codec/bytes';

const DOC = readFileSync(
  fileURLToPath(new URL('../../../../docs/protocol.md', import.meta.url)),
  'utf8',
);

describe('docs/protocol.md stays in sync with the code', () => {
  it('lists every firewall rule in the right table', () => {
    const allow = DOC.slice(DOC.indexOf('### 9.1 Allow'), DOC.indexOf('### 9.2 Deny'));
    const deny = DOC.slice(DOC.indexOf('### 9.2 Deny'), DOC.indexOf('## 10.'));
    for (const r of FIREWALL_RULES) {
      expect(r.verdict === 'allow' ? allow : deny).toContain(`| \`${r.id}\` |`);
    }
    expect(DOC).toContain(FIREWALL_DENY_SW.toString(16));
  });
  it('documents every message type, close code, error code, state and decline reason', () => {
    for (const t of [
      ...Object.keys(CLIENT_MESSAGE_SCHEMAS),
      ...Object.keys(SERVER_MESSAGE_SCHEMAS),
    ]) {
      expect(DOC).toMatch(new RegExp(`### \\d\\.\\d \`${t}\``));
    }
    for (const c of Object.values(CLOSE_CODES)) expect(DOC).toContain(`| \`${c}\` |`);
    for (const c of ERROR_CODES) expect(DOC).toContain(`\`${c}\``);
    for (const s of CEREMONY_STATES) expect(DOC).toContain(`\`${s}\``);
    for (const r of DECLINE_REASONS) expect(DOC).toContain(`\`${r}\``);
  });
  it('documents every field of every server message in its table', () => {
    for (const [type, schema] of Object.entries(SERVER_MESSAGE_SCHEMAS)) {
      const head = new RegExp(`### 5\\.\\d \`${type}\``).exec(DOC);
      expect(head, type).not.toBeNull();
      const rest = DOC.slice(head!.index + head![0].length);
      const section = rest.slice(0, rest.search(/\n##/));
      if (!section.includes('| field |')) continue; // described in prose (ping)
      for (const field of Object.keys(schema.shape)) {
        if (field === 'v' || field === 'type') continue;
        expect(section, `${type}.${field}`).toMatch(new RegExp(`\\| [^\\n]*\`${field}[\`.]`));
      }
    }
  });
  it('states the limits the code enforces', () => {
    expect(DOC).toContain('65 536 bytes');
    expect(LIMITS.frameBytes).toBe(65_536);
    expect(DOC).toContain(`4–${LIMITS.commandApduBytes} bytes`);
    expect(DOC).toContain(`1–${LIMITS.scriptApdus}`);
    expect(DOC).toContain(`hex(${LIMITS.challengeMinBytes}..${LIMITS.challengeMaxBytes})`);
    expect(DOC).toContain(`**${HEARTBEAT.missedLimit}** intervals`);
    expect(DOC).toContain(`within **${HEARTBEAT.helloTimeoutSeconds} s**`);
  });
  it('example frames in the transcript are valid messages', () => {
    const start = DOC.indexOf('## 11.');
    const blocks = [...DOC.slice(start).matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const frames = blocks
      .flatMap((b) => b.trim().split(/\n(?=\{)/))
      .map((f) => f.replace(/\n\s*/g, ''));
    expect(frames.length).toBe(4);
    for (const f of frames) {
      const obj = JSON.parse(f.replace('"7f2181e0…"', '"7f2181e0"')) as { type: string };
      const text = JSON.stringify(obj);
      const r = obj.type === 'decision' ? parseClientMessage(text) : parseServerMessage(text);
      if (!r.ok) throw new Error(`${obj.type}: ${JSON.stringify(r.error)}`);
    }
  });
  it('the example signature verifies over CHR(T) ‖ challenge', () => {
    const der = /"rapdu":"(30[0-9a-f]+)9000"/.exec(DOC)![1]!;
    const pub = /```\n(04 [0-9a-f]+)\n\s+([0-9a-f]+)\n```/.exec(DOC)!;
    const key = fromHex(pub[1]!.replace(' ', '') + pub[2]!);
    const msg = concatBytes(asciiBytes('DENK0100001T0042'), fromHex('5a17c3e09b2d4f86'));
    const opts = { format: 'der', lowS: false } as const;
    expect(brainpoolP256r1.verify(fromHex(der), msg, key, opts)).toBe(true);
    expect(brainpoolP256r1.verify(fromHex(der), msg.slice(1), key, opts)).toBe(false);
  });
});
