/**
 * The rules of the custodian APDU firewall: one id per allow or deny row, the table the
 * documentation and the UI render, and the status word a denied command is answered with.
 * Section numbers refer to docs/card-reference.md.
 * @module
 */

/**
 * Status word reported for every denied APDU (`6986` "command not allowed"). A denied APDU is
 * never sent to the card; the server receives this SW in the `blocked` result instead, so it
 * cannot distinguish "the card refused" from "the client refused" by timing or SW variety.
 */
export const FIREWALL_DENY_SW = 0x6986;

/** Identifier of a firewall rule (stable: it is written to the audit log and sent to the server). */
export type FirewallRuleId =
  | 'verify-status'
  | 'read-public-object'
  | 'enumerate-objects'
  | 'get-challenge'
  | 'sign-pka-input'
  | 'sign-pka-hash'
  | 'malformed'
  | 'class-not-allowed'
  | 'bad-form'
  | 'select'
  | 'verify-with-data'
  | 'verify-keep-session'
  | 'verify-other'
  | 'pin-management'
  | 'initialize'
  | 'key-domain'
  | 'key-export'
  | 'key-store-write'
  | 'crypto-oracle'
  | 'manage-pka'
  | 'trust-store'
  | 'secure-messaging'
  | 'read-private-object'
  | 'read-binary-iso'
  | 'get-response'
  | 'sign-other-key'
  | 'sign-other-algorithm'
  | 'sign-other-data'
  | 'sign-budget-spent'
  | 'unknown-instruction';

/** One row of the firewall table. */
export type FirewallRule = {
  /** Stable identifier. */
  readonly id: FirewallRuleId;
  /** Whether a matching APDU is forwarded to the card. */
  readonly verdict: 'allow' | 'deny';
  /** The APDU pattern (hex, `xx` = any byte, `…` = rest), for people. */
  readonly pattern: string;
  /** What the rule means and why it exists. */
  readonly text: string;
  /** The reference section the rule comes from. */
  readonly reference: string;
};

/**
 * The complete rule table, allow rows first, in the order the firewall evaluates them.
 * The PIN is verified locally before a script runs, so SELECT (which logs the card out,
 * docs/card-reference.md §1.3) is denied inside scripts; this is the §12.1 list adapted to that flow.
 */
export const FIREWALL_RULES: readonly FirewallRule[] = [
  {
    id: 'verify-status',
    verdict: 'allow',
    pattern: '00 20 00 81',
    text: 'PIN status query without data (reports whether the user is authenticated).',
    reference: '§3.1, §12.1',
  },
  {
    id: 'read-public-object',
    verdict: 'allow',
    pattern: '00 B1 <2F02|CExx|C4xx|C8xx|CAxx> [54 02 <offset>] Le',
    text: 'Read a public object: device certificates, key request/certificate, key or certificate description, CA certificate.',
    reference: '§2.2, §8.1, §12.1',
  },
  {
    id: 'enumerate-objects',
    verdict: 'allow',
    pattern: '80 58 00 00 [Le]',
    text: 'List the object identifiers on the card (no data).',
    reference: '§8.1, §12.1',
  },
  {
    id: 'get-challenge',
    verdict: 'allow',
    pattern: '00 84 00 00 [Le]',
    text: 'Random bytes from the card (harmless).',
    reference: '§8.1, §12.1',
  },
  {
    id: 'sign-pka-input',
    verdict: 'allow',
    pattern: '80 68 <keyId> 73 <CHR(T) ‖ challenge> [Le]',
    text: 'The one PKA signature of this approval: ECDSA-SHA-256 by the approved key over exactly the approved target CHR and challenge.',
    reference: '§6.6, §12.1, §12.3',
  },
  {
    id: 'sign-pka-hash',
    verdict: 'allow',
    pattern: '80 68 <keyId> 70 <SHA-256(CHR(T) ‖ challenge)> [Le]',
    text: 'The one PKA signature of this approval on a hash the client computed itself from the approved target CHR and challenge.',
    reference: '§6.6, §12.1, §12.3',
  },
  {
    id: 'malformed',
    verdict: 'deny',
    pattern: '(not a valid command APDU)',
    text: 'Not a well-formed ISO 7816 command APDU (length fields inconsistent or too short).',
    reference: '§12.2',
  },
  {
    id: 'class-not-allowed',
    verdict: 'deny',
    pattern: 'CLA ≠ 00/80 as required by the instruction',
    text: 'Only plain CLA 00 (ISO) or 80 (proprietary) is forwarded: no secure messaging (hides the data the firewall must check), no command chaining, no logical channels.',
    reference: '§8.2, §12.1',
  },
  {
    id: 'bad-form',
    verdict: 'deny',
    pattern: 'allowed instruction, other P1/P2/data/Le shape',
    text: 'An allowed instruction in a form other than the exact one the allowlist names.',
    reference: '§12.1',
  },
  {
    id: 'select',
    verdict: 'deny',
    pattern: 'xx A4 …',
    text: 'SELECT logs the card out (the locally verified PIN is lost) or opens another applet such as the card manager.',
    reference: '§1.3, §12.2',
  },
  {
    id: 'verify-with-data',
    verdict: 'deny',
    pattern: '00 20 xx xx <data>',
    text: 'VERIFY with a PIN from the network: guessing burns the retry counter (SO-PIN guessing can brick the card).',
    reference: '§3.1, §12.2',
  },
  {
    id: 'verify-keep-session',
    verdict: 'deny',
    pattern: '00 20 01 81',
    text: 'VERIFY with P1=01 keeps the authenticated session open after the ceremony.',
    reference: '§6.7, §12.2, §13.12',
  },
  {
    id: 'verify-other',
    verdict: 'deny',
    pattern: '00 20 xx xx (other references)',
    text: 'VERIFY for another reference (e.g. the SO-PIN 88) is not part of a ceremony.',
    reference: '§3.1, §12.2',
  },
  {
    id: 'pin-management',
    verdict: 'deny',
    pattern: 'xx 24 …, xx 2C …, xx 5A …',
    text: 'PIN change, unblock (reset retry counter) and session PIN.',
    reference: '§3.2, §3.3, §3.7, §12.2',
  },
  {
    id: 'initialize',
    verdict: 'deny',
    pattern: 'xx 50 …',
    text: 'INITIALIZE DEVICE (or GlobalPlatform INITIALIZE UPDATE) wipes the device.',
    reference: '§3.4, §12.2',
  },
  {
    id: 'key-domain',
    verdict: 'deny',
    pattern: 'xx 52 …',
    text: 'DKEK share import and key-domain management.',
    reference: '§3.6, §12.2',
  },
  {
    id: 'key-export',
    verdict: 'deny',
    pattern: 'xx 72 …, xx 74 …',
    text: 'WRAP/UNWRAP KEY exports or imports keys under a DKEK.',
    reference: '§8.1, §12.2',
  },
  {
    id: 'key-store-write',
    verdict: 'deny',
    pattern: 'xx 46 …, xx 48 …, xx D7 …, xx E4 …',
    text: 'Key generation, UPDATE BINARY and DELETE FILE overwrite or delete keys, descriptions and certificates.',
    reference: '§7, §8.1, §12.2',
  },
  {
    id: 'crypto-oracle',
    verdict: 'deny',
    pattern: 'xx 62 …, xx 76 …, xx 78 …',
    text: 'DECIPHER/ECDH, DERIVE and CIPHER SYMMETRIC would use the custodian keys as an oracle.',
    reference: '§8.1, §12.2',
  },
  {
    id: 'manage-pka',
    verdict: 'deny',
    pattern: 'xx 54 …',
    text: "MANAGE PKA would change or probe the custodian card's own public key authentication set.",
    reference: '§6.4, §12.2',
  },
  {
    id: 'trust-store',
    verdict: 'deny',
    pattern: 'xx 22 …, xx 2A …, xx 82 …',
    text: "MANAGE SE, PSO VERIFY CERTIFICATE and EXTERNAL AUTHENTICATE change the custodian card's trust store or authenticate someone to it.",
    reference: '§6.5, §12.2',
  },
  {
    id: 'secure-messaging',
    verdict: 'deny',
    pattern: 'xx 86 …',
    text: 'GENERAL AUTHENTICATE sets up secure messaging, after which the firewall could no longer check command data.',
    reference: '§8.2, §12.1',
  },
  {
    id: 'read-private-object',
    verdict: 'deny',
    pattern: '00 B1 <CCxx|CDxx|other> …',
    text: 'READ BINARY of a key, a PIN-protected data object or any object not on the public list.',
    reference: '§2.2, §12.1',
  },
  {
    id: 'read-binary-iso',
    verdict: 'deny',
    pattern: 'xx B0 …',
    text: 'Plain READ BINARY reads whatever EF is currently selected; only the odd form with an explicit public file id is allowed.',
    reference: '§8.1, §12.1',
  },
  {
    id: 'get-response',
    verdict: 'deny',
    pattern: 'xx C0 …',
    text: 'GET RESPONSE is handled by the local transport, never sent by a server.',
    reference: '§12.2',
  },
  {
    id: 'sign-other-key',
    verdict: 'deny',
    pattern: '80 68 <other keyId> xx …',
    text: 'SIGN with a key other than the approved custodian key (signature oracle).',
    reference: '§12.2, §12.3',
  },
  {
    id: 'sign-other-algorithm',
    verdict: 'deny',
    pattern: '80 68 <keyId> <not 70/73> …',
    text: 'SIGN with an algorithm other than ECDSA-SHA-256 (73) or ECDSA on the client-computed hash (70).',
    reference: '§8.3, §12.2',
  },
  {
    id: 'sign-other-data',
    verdict: 'deny',
    pattern: '80 68 <keyId> 73/70 <other data>',
    text: 'SIGN of data other than the approved target CHR ‖ challenge (or its SHA-256): could unlock another target.',
    reference: '§12.2, §12.3',
  },
  {
    id: 'sign-budget-spent',
    verdict: 'deny',
    pattern: '80 68 … (second)',
    text: 'A second signature in the same approval (one signature per approval).',
    reference: '§12.1, §12.2',
  },
  {
    id: 'unknown-instruction',
    verdict: 'deny',
    pattern: 'anything else',
    text: 'Unknown or unlisted instruction.',
    reference: '§12.2',
  },
];
