/**
 * Child process for the "never sign twice" fault test (issue 11 item 8): a custodian engine
 * with file-backed audit log, decision store and signing journal, an emulated card in a state
 * file, approving every offer it is shown. `--kill-at after-sign` SIGKILLs this process the
 * moment the card has answered the SIGN; `after-journal` right after the signature was made
 * durable; `none` runs until killed. Every SIGN sent to the card is appended to `signs.log`.
 * Usage: node --import tsx sign-once-child.ts URL DIR CARD KEYID KEYCHR ROOT KILLAT
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog } from '../../../core/audit/audit-log';
import type { CardTransport } from '../../../core/card/transport';
import { fileDecisionStore } from '../../../core/custodian/decision-store';
import { createCustodianEngine } from '../../../core/custodian/engine';
import { refOf } from '../../../core/custodian/engine-types';
import { fileSigningJournal, type SigningJournal } from '../../../core/custodian/signing-journal';
import { createWsConnector } from '../../../core/net/ws-transport';
import { EmulatedSmartCardHsm } from '../../../emulator/card/sc-hsm-card';
import { loadState, saveState } from '../../../emulator/card/state-file';
import { createInProcessTransport } from '../../../emulator/transport/in-process';
import { anchorFromCvc } from '../../../shared/cvc/chain';
import { unwrap } from '../../../shared/result';

const [url, dir, cardFile, keyIdText, keyChr, rootFile, killAt] = process.argv.slice(2);
if (!url || !dir || !cardFile || !keyIdText || !keyChr || !rootFile || !killAt) {
  process.stderr.write('usage: URL DIR CARD KEYID KEYCHR ROOT KILLAT\n');
  process.exit(2);
}
const die = () => process.kill(process.pid, 'SIGKILL');
const say = (line: string) => process.stdout.write(`${line}\n`);

const openCard = async (): Promise<CardTransport> => {
  const card = new EmulatedSmartCardHsm(loadState(cardFile), {
    onChange: (s) => saveState(cardFile, s),
  });
  const inner = createInProcessTransport(card);
  return {
    get atr() {
      return inner.atr;
    },
    transmit: async (apdu) => {
      const sign = apdu[1] === 0x68;
      if (sign) appendFileSync(join(dir, 'signs.log'), 'SIGN\n');
      const r = await inner.transmit(apdu);
      if (sign && killAt === 'after-sign') die();
      return r;
    },
    transaction: (fn) => inner.transaction(fn),
    close: (d) => inner.close(d),
    reset: () => inner.reset(),
  };
};

const fileJournal = fileSigningJournal(join(dir, 'journal.jsonl'));
const journal: SigningJournal = {
  ...fileJournal,
  record(row) {
    fileJournal.record(row);
    if (row.state === 'signed' && killAt === 'after-journal') die();
  },
};

const audit = openAuditLog(join(dir, 'audit.jsonl'));
const engine = createCustodianEngine({
  url,
  connector: createWsConnector(),
  auth: { kind: 'session', custodianId: 'cust-1', credential: 'C'.repeat(43) },
  anchors: [unwrap(anchorFromCvc(new Uint8Array(readFileSync(rootFile)), 'test root'))],
  ownKey: { keyId: Number(keyIdText), chr: keyChr },
  openCard,
  audit,
  decisions: fileDecisionStore(join(dir, 'decisions.jsonl')),
  journal,
  backoff: { initialMs: 50, maxMs: 200 },
});
engine.on((e) => {
  if (e.type === 'offer-added') {
    say(`OFFER ${e.offer.offerId}`);
    void engine
      .approve(refOf(e.offer), {
        kind: 'typed',
        read: async () => new TextEncoder().encode('648219'),
      })
      .then((r) => say(`APPROVE ${r.kind}`));
  } else if (e.type === 'offer-rejected') {
    say(`REJECTED ${e.offer.offerId} ${e.rejection.code}: ${e.rejection.message}`);
  } else if (e.type === 'connection' && e.state.kind === 'authenticated') say('CONNECTED');
});
engine.start();
