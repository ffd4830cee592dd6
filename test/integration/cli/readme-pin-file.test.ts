/**
 * The README's automation example, run exactly as written: `npx custodian watch --pin-file …`
 * through npm exec (which passes the command only fds 0–2, the reason `--pin-fd 3` fails there),
 * with the PIN written into the FIFO by the README's `printf` line. The lines are read from
 * README.md, so the test fails when the README shows a command that does not work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveState } from '../../../emulator/card/state-file';
import type { DecisionMessage } from '../../../shared/protocol/index';
import { BIN, ROOT, runNode } from '../e2e/processes';
import { startHostileServer, type HostileServer } from '../helpers/hostile-server';
import { newCustodianCard, offerFor, PIN, targetIdentity, testCa } from '../hostile/world';

/** The ```sh block of README.md that uses --pin-file, split at its comment line. */
function readmeBlock(): { watch: string; feed: string } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1] ?? '')
    .find((b) => b.includes('--pin-file'));
  if (block === undefined) throw new Error('README.md has no sh block with --pin-file');
  const lines = block.trimEnd().split('\n');
  const comment = lines.findIndex((l) => l.startsWith('#'));
  return {
    watch: lines.slice(0, comment).join('\n'),
    feed: lines.slice(comment + 1).join('\n'),
  };
}

const children: ChildProcess[] = [];
let server: HostileServer | undefined;
let dir: string | undefined;
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(-c.pid, 'SIGKILL'); // the shell's own process group: sh, npm exec, node
      } catch {
        // already gone
      }
    }
  }
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sh(script: string, env: NodeJS.ProcessEnv) {
  const proc = spawn('/bin/sh', ['-e', '-c', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so cleanup reaches npm exec's child too
  });
  children.push(proc);
  let all = '';
  proc.stdout!.on('data', (d: Buffer) => void (all += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => void (all += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const waitFor = async (re: RegExp, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!re.test(all)) {
      if (proc.exitCode !== null) throw new Error(`exited before ${what}:\n${all}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms:\n${all}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { proc, exited, waitFor, all: () => all };
}

describe('README: npx custodian watch --pin-file', () => {
  it('approves an offer with the PIN written into the FIFO, exactly as the README shows', async () => {
    const { watch, feed } = readmeBlock();
    expect(watch).toMatch(/^mkfifo -m 600 .*\nnpx custodian watch --pin-file /);
    expect(feed).toMatch(/^printf /);

    dir = mkdtempSync(join(tmpdir(), 'readme-pin-file-'));
    const runtime = join(dir, 'run');
    const env = {
      CUSTODIAN_HOME: join(dir, 'home'),
      XDG_RUNTIME_DIR: runtime,
      PIN,
    };
    mkdirSync(runtime, { mode: 0o700 });
    const cust = await newCustodianCard(7401);
    const cardFile = join(dir, 'card.json');
    saveState(cardFile, cust.card.state);
    const root = join(dir, 'root.cvc');
    writeFileSync(root, testCa().root.cvc);
    const key = { keyId: cust.keyId, chr: cust.chr };
    server = await startHostileServer();
    const s = server;
    const enrolled = await runNode(
      'custodian enroll',
      BIN.custodian,
      [
        'enroll',
        '--server',
        s.url,
        '--token',
        'tok_' + 'B2'.repeat(15),
        '--emulator',
        cardFile,
        '--key-id',
        String(key.keyId),
        '--trust-anchor',
        root,
      ],
      { env },
    );
    expect(enrolled.err).toBe('');
    expect(enrolled.code).toBe(0);

    const w = sh(watch, env);
    await s.waitFor(
      (m) => m.type === 'hello' && m.auth.kind === 'session',
      'session hello',
      150_000,
    );
    const offer = offerFor(targetIdentity(7402), key);
    s.send(offer);
    await w.waitFor(/Approve this ceremony\?/, 'prompt', 60_000);
    w.proc.stdin!.write('a\n');
    const fed = sh(feed, env);
    expect(await fed.exited).toBe(0);
    const decision = (await s.waitFor(
      (m) => m.type === 'decision' && m.offerId === offer.offerId,
      'approval',
      60_000,
    )) as DecisionMessage;
    expect(decision.decision.kind).toBe('approve');
    await w.waitFor(/approved: 1 command\(s\) ran on your card/, 'approved line', 60_000);
    expect(w.all()).not.toContain(PIN);
  }, 300_000);
});
