/**
 * `custodian watch`: connects with the stored credential, shows every offer with what was
 * verified locally, and asks the custodian to approve or decline each one. The PIN is asked
 * only after "approve", without echo (or read from `--pin-fd N`), and verified on the card
 * locally; a wrong PIN is reported with the tries left and never retried on its own.
 * @module
 */
import { join } from 'node:path';
import { describeAuditRecovery, openAuditLog } from '../../core/audit/audit-log';
import { fileDecisionStore } from '../../core/custodian/decision-store';
import { fileSigningJournal } from '../../core/custodian/signing-journal';
import type { CardOpener, PinSource } from '../../core/custodian/card-session';
import { createCustodianEngine, type CustodianEngine } from '../../core/custodian/engine';
import { refOf, type OfferView } from '../../core/custodian/engine-types';
import {
  auditFilePath,
  custodianHome,
  loadCredential,
  loadCustodianConfig,
} from '../../core/config/custodian-config';
import { createWsConnector } from '../../core/net/ws-transport';
import { loadAnchors } from '../commands/card-info';
import { UsageError } from '../errors';
import { confirmLastTry, readPin, type PinOptions } from './card-pin';
import { cardOpener, type CardChoice, type CustodianCommandDeps } from './deps';
import { formatEvent, formatOffer } from './format-offer';
import { createLineReader, type LineReader } from './pin-input';
import { serverPin } from './server-pin';

/** Options of `watch`. */
export type WatchOptions = CardChoice &
  PinOptions & {
    readonly pinpad?: boolean;
    readonly trustAnchor: readonly string[];
    /** Stop after the first offer was decided (tests, scripted use). */
    readonly once?: boolean;
  };

/** Runs `watch` until interrupted (or, with `--once`, until one offer was decided). */
export async function watch(opts: WatchOptions, deps: CustodianCommandDeps): Promise<void> {
  const home = custodianHome(deps.env ?? process.env);
  const config = loadCustodianConfig(home);
  if (!config.ok) throw new UsageError(config.error.message);
  const c = config.value;
  if (!c.server || c.custodianId === undefined || c.keyId === undefined) {
    throw new UsageError('not enrolled yet: run `custodian enroll --server URL --token T` first');
  }
  const credential = loadCredential(home);
  if (!credential.ok) throw new UsageError(credential.error.message);
  const server = c.server;
  const { url, pin } = serverPin({
    server: server.url,
    ...(server.fingerprint !== undefined ? { fingerprint: server.fingerprint } : {}),
    ...(server.caFile !== undefined ? { ca: server.caFile } : {}),
  });
  const anchors = await loadAnchors([...c.trustAnchors, ...opts.trustAnchor], deps);
  const choice: CardChoice =
    opts.reader !== undefined || opts.emulator !== undefined
      ? opts
      : {
          ...(c.reader !== undefined ? { reader: c.reader } : {}),
          ...(c.emulator !== undefined ? { emulator: c.emulator } : {}),
        };
  const openCard = cardOpener(choice, deps);
  const audit = openAuditLog(auditFilePath(home, c));
  if (audit.recovered) deps.io.err(`${describeAuditRecovery(audit.recovered)}\n`);
  const lines = createLineReader(deps.input ?? process.stdin, deps.io);
  const engine = createCustodianEngine({
    url,
    connector: deps.connector ?? createWsConnector(pin ? { pin } : {}),
    auth: { kind: 'session', custodianId: c.custodianId, credential: credential.value },
    anchors,
    ownKey: c.keyChr !== undefined ? { keyId: c.keyId, chr: c.keyChr } : { keyId: c.keyId },
    audit,
    decisions: fileDecisionStore(join(home, 'decisions.jsonl')),
    journal: fileSigningJournal(join(home, 'signing-journal.jsonl')),
    client: { name: 'custodian-cli', version: '0.1.0' },
  });
  try {
    await runLoop(engine, openCard, opts, deps, lines);
  } finally {
    engine.stop();
    lines.close();
    audit.close();
  }
}

function runLoop(
  engine: CustodianEngine,
  openCard: CardOpener,
  opts: WatchOptions,
  deps: CustodianCommandDeps,
  lines: LineReader,
): Promise<void> {
  const io = deps.io;
  const queue: string[] = [];
  /** Queues a ceremony to be shown (once: a ceremony already waiting is not asked twice). */
  const enqueue = (ceremonyId: string): void => {
    if (!queue.includes(ceremonyId)) queue.push(ceremonyId);
  };
  let busy = false;
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const finish = (error?: Error): void => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onSigint);
      if (error) reject(error);
      else resolve();
    };
    const onSigint = (): void => finish();
    process.once('SIGINT', onSigint);

    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !finished) {
          const ceremonyId = queue.shift()!;
          const view = engine
            .offers()
            .find((o) => o.ceremonyId === ceremonyId && o.phase === 'pending');
          if (view) await ask(view);
        }
      } finally {
        busy = false;
      }
    };

    const ask = async (view: OfferView): Promise<void> => {
      io.out(formatOffer(view, deps.now()));
      io.err('Approve this ceremony? [a]pprove / [d]ecline / [s]kip: ');
      const answer = (await lines.next())?.trim().toLowerCase();
      if (answer === undefined) return void (opts.once ? finish() : undefined);
      if (answer === 'd' || answer === 'decline') {
        engine.decline(view.ceremonyId);
        io.out(`declined ceremony ${view.ceremonyId}\n`);
        if (opts.once) finish();
        return;
      }
      if (answer !== 'a' && answer !== 'approve') return void io.out('skipped\n');
      // The approval names exactly the offer printed above (offer id + display digest): an
      // offer the server swapped in meanwhile is refused and shown again (issue 7 item 3).
      const shown = refOf(view);
      let result = await engine.approve(shown, pinSource(opts, lines), {
        openCard,
        confirmLastTry: opts.yesLastTry === true,
      });
      if (
        result.kind === 'needs-last-try-confirmation' &&
        (await confirmLastTry(opts, lines, io))
      ) {
        result = await engine.approve(shown, pinSource(opts, lines), {
          openCard,
          confirmLastTry: true,
        });
      }
      switch (result.kind) {
        case 'approved':
          io.out(`approved: ${result.forwarded} command(s) ran on your card, signature sent\n`);
          if (opts.once) finish();
          return;
        case 'pin-wrong':
          io.out(
            `wrong PIN — ${result.retries} tries left (not retried; answer the offer again to retry)\n`,
          );
          break;
        case 'pin-blocked':
          io.out('the PIN is BLOCKED; the offer was declined\n');
          if (opts.once) finish();
          return;
        case 'needs-last-try-confirmation':
          io.out('not confirmed; the PIN was not tried\n');
          break;
        case 'offer-changed':
          io.err(
            `NOT APPROVED: ${result.message}\nThe offer you were shown is not the one pending now; it is shown again below.\n`,
          );
          break;
        default:
          io.out(`not approved: ${result.message}\n`);
      }
      if (opts.once && result.kind === 'refused') return finish();
      enqueue(view.ceremonyId);
    };

    engine.on((e) => {
      if (e.type === 'offer-added') {
        enqueue(e.offer.ceremonyId);
        void pump().catch((err: unknown) => finish(err as Error));
        return;
      }
      const line = formatEvent(e);
      const toErr =
        e.type === 'offer-rejected' ||
        e.type === 'server-error' ||
        e.type === 'auth-refused' ||
        e.type === 'server-suspicious';
      if (line) (toErr ? io.err : io.out)(line);
      // The engine disconnected for good (docs/protocol.md §8): end the run with an error.
      if (e.type === 'server-suspicious') {
        finish(new UsageError('disconnected from a suspicious server'));
        return;
      }
      if (e.type === 'connection' && e.state.kind === 'stopped' && e.state.code !== undefined) {
        finish(new UsageError(`the server ended the session: ${e.state.reason}`));
      }
      // --once: a rejection ends the run, unless an approval is running (it decides the run).
      if (e.type === 'offer-rejected' && opts.once && !busy) finish();
    });
    engine.start();
  });
}

function pinSource(opts: WatchOptions, lines: LineReader): PinSource {
  if (opts.pinpad) return { kind: 'pinpad' };
  return {
    kind: 'typed',
    read: (p) =>
      readPin(opts, lines, `PIN${p.retries !== undefined ? ` (${p.retries} tries left)` : ''}: `),
  };
}
