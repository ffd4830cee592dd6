/**
 * Issue 11 item 8, fault test at the exact step: a custodian process SIGKILLed right after its
 * card answered the SIGN (before the decision was stored), or right after the signature was
 * journaled, is restarted and shown the same offer again. The card must have received exactly
 * one SIGN in total; an interrupted approval is refused (and declined), a journaled signature
 * is resent unchanged.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../../core/audit/audit-log';
import type { OfferMessage } from '../../../shared/protocol/index';
import { fakeServer, makeOffer, targetDevice } from '../custodian/harness';
import { enrolledHome } from '../../unit/cli/custodian/watch-harness';

const CHILD = join(__dirname, 'sign-once-child.ts');
const children: { pid: number | undefined; kill(): void }[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  for (const c of cleanups.splice(0)) await c();
});

type Run = { out: () => string; exited: Promise<NodeJS.Signals | number | null>; stop(): void };

function runChild(args: string[]): Run {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((r) =>
    proc.on('exit', (code, signal) => r(signal ?? code)),
  );
  const handle = { pid: proc.pid, kill: () => void proc.kill('SIGKILL') };
  children.push(handle);
  return { out: () => out, exited, stop: handle.kill };
}

async function world() {
  const server = await fakeServer();
  cleanups.push(() => server.close());
  const w = await enrolledHome(server.url);
  const offer = makeOffer(targetDevice(202), w.key);
  let sendOffer = true;
  server.setOnHello((ws) => {
    server.send(ws, {
      v: 1,
      type: 'welcome',
      custodianId: 'cust-1',
      serverTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      heartbeatSeconds: 15,
    });
    if (sendOffer) server.send(ws, offer);
  });
  const args = (killAt: string) => [
    server.url,
    w.dir,
    w.cardFile,
    String(w.key.keyId),
    w.key.chr,
    join(w.dir, 'root.cvc'),
    killAt,
  ];
  const signs = () =>
    existsSync(join(w.dir, 'signs.log'))
      ? readFileSync(join(w.dir, 'signs.log'), 'utf8').trim().split('\n').length
      : 0;
  return { server, w, offer, args, signs, stopOffering: () => (sendOffer = false) };
}

const decisionsFor = (messages: readonly unknown[], offer: OfferMessage) =>
  messages.filter(
    (m): m is { type: 'decision'; offerId: string; decision: { kind: string } } =>
      (m as { type?: string }).type === 'decision' &&
      (m as { offerId?: string }).offerId === offer.offerId,
  );

describe('11.8 a custodian never signs twice for one offer', () => {
  it('11.8 killed right after the SIGN, before the decision was stored: the restart never signs again', async () => {
    const t = await world();
    const first = runChild(t.args('after-sign'));
    expect(await first.exited).toBe('SIGKILL');
    expect(t.signs()).toBe(1);
    expect(decisionsFor(t.server.messages, t.offer)).toEqual([]);

    const second = runChild(t.args('none'));
    const decision = await t.server.next(
      (m) => m.type === 'decision' && m.offerId === t.offer.offerId,
    );
    expect(decision.type === 'decision' && decision.decision.kind).toBe('decline');
    expect(second.out()).toMatch(/REJECTED .* never signed twice/);
    expect(second.out()).not.toMatch(/APPROVE/);
    second.stop();
    await second.exited;
    expect(t.signs()).toBe(1);
    // The audit log is intact across the kill and the restart.
    expect(verifyAuditFile(join(t.w.dir, 'audit.jsonl')).ok).toBe(true);
  }, 60_000);

  it('11.8 killed right after the signature was journaled: the restart resends it, no second SIGN', async () => {
    const t = await world();
    const first = runChild(t.args('after-journal'));
    expect(await first.exited).toBe('SIGKILL');
    expect(t.signs()).toBe(1);
    expect(decisionsFor(t.server.messages, t.offer)).toEqual([]);

    const second = runChild(t.args('none'));
    const decision = await t.server.next(
      (m) => m.type === 'decision' && m.offerId === t.offer.offerId,
    );
    expect(decision.type === 'decision' && decision.decision.kind).toBe('approve');
    const results =
      decision.type === 'decision' && decision.decision.kind === 'approve'
        ? decision.decision.results
        : [];
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ rapdu: expect.stringMatching(/9000$/) });
    expect(second.out()).not.toMatch(/APPROVE/);
    second.stop();
    await second.exited;
    expect(t.signs()).toBe(1);
    expect(verifyAuditFile(join(t.w.dir, 'audit.jsonl')).ok).toBe(true);
  }, 60_000);
});
