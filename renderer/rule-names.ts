/**
 * Plain-language names of the custodian firewall's rules (shared/policy/firewall-rules.ts) for
 * the APDU trace, and reasons cleaned of references to documents the custodian does not have.
 * Unknown rule ids are shown as they are. Pure.
 * @module
 */

const NAMES: Readonly<Record<string, string>> = {
  'verify-status': 'Ask how many PIN tries are left',
  'read-public-object': 'Read a public certificate',
  'enumerate-objects': 'List the objects on the card',
  'get-challenge': 'Get a random challenge',
  'sign-pka-input': 'Sign the approval for this device',
  'sign-pka-hash': 'Sign the approval for this device (hash)',
  malformed: 'Malformed command',
  'class-not-allowed': 'Command class not allowed',
  'bad-form': 'Command of the wrong form',
  select: 'Select the SmartCard-HSM application',
  'verify-with-data': 'Check the PIN',
  'verify-keep-session': 'Keep the PIN session',
  'verify-other': 'Other PIN check (not allowed)',
  'pin-management': 'Change or unblock the PIN (not allowed)',
  initialize: 'Wipe and initialize the card (not allowed)',
  'key-domain': 'Key domain management (not allowed)',
  'key-export': 'Export a key (not allowed)',
  'key-store-write': 'Write or delete a key (not allowed)',
  'crypto-oracle': 'Use a key for other cryptography (not allowed)',
  'manage-pka': 'Change public key authentication (not allowed)',
  'trust-store': 'Change the trusted certificates (not allowed)',
  'secure-messaging': 'Secure messaging (not allowed)',
  'read-private-object': 'Read a private object (not allowed)',
  'read-binary-iso': 'Read raw data (not allowed)',
  'get-response': 'Fetch a long response',
  'sign-other-key': 'Sign with a key you did not approve (not allowed)',
  'sign-other-algorithm': 'Sign with another algorithm (not allowed)',
  'sign-other-data': 'Sign data other than the approval (not allowed)',
  'sign-budget-spent': 'A second signature (not allowed)',
  'unknown-instruction': 'Unknown command (not allowed)',
};

/** The rule's name in plain words. */
export function ruleName(rule: string): string {
  return NAMES[rule] ?? rule;
}

/** A reason without its "§" citations (section numbers of documents the user does not have). */
export function plainReason(reason: string): string {
  return reason
    .replace(/\s*\((?:[^()]*§[^()]*)\)/g, '')
    .replace(/\s*(?:reference\s*)?§\s*[\d.]+(?:\s*,\s*§?\s*[\d.]+)*/gi, '')
    .trim();
}
