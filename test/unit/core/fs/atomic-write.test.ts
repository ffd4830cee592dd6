import * as fs from 'node:fs';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Records every fsync with the path of the descriptor, so the test can see that the data and
// the directory entry were both flushed (a power loss after rename must not lose either).
const synced: string[] = [];
const opened = new Map<number, string>();
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    openSync: (path: fs.PathLike, ...rest: unknown[]) => {
      const fd = (real.openSync as (...a: unknown[]) => number)(path, ...rest);
      opened.set(fd, String(path));
      return fd;
    },
    fsyncSync: (fd: number) => {
      synced.push(opened.get(fd) ?? `fd ${fd}`);
      real.fsyncSync(fd);
    },
  };
});

const { nodeAtomicWriteFs, writeFileAtomic } = await import('../../../../core/fs/atomic-write');
type AtomicWriteFs = typeof nodeAtomicWriteFs;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
  synced.length = 0;
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content and fsyncs the file and then its directory', () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, '{"new":true}\n');
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}\n');
    expect(synced).toHaveLength(2);
    expect(synced[0]).toMatch(/\.config\.json\.[0-9a-f]+\.tmp$/);
    expect(synced[1]).toBe(dir);
    expect(readdirSync(dir)).toEqual(['config.json']);
  });

  it('sets exactly the requested mode, whatever the umask', () => {
    const old = process.umask(0o077);
    try {
      writeFileAtomic(join(dir, 'root.cvc'), Uint8Array.of(1, 2, 3), 0o644);
      writeFileAtomic(join(dir, 'secret'), 'x');
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'root.cvc')).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600);
    expect([...readFileSync(join(dir, 'root.cvc'))]).toEqual([1, 2, 3]);
  });

  it('leaves the old content and no temporary file when the rename fails', () => {
    const target = join(dir, 'state');
    mkdirSync(target); // a directory cannot be replaced by a file
    writeFileSync(join(target, 'keep'), 'kept');
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(readdirSync(dir)).toEqual(['state']);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('kept');
  });

  it('fails clearly when the directory does not exist', () => {
    expect(() => writeFileAtomic(join(dir, 'missing', 'f'), 'x')).toThrow(/ENOENT/);
  });
});

describe('writeFileAtomic through an injected file port', () => {
  const injected = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  /** node:fs, with `step` failing for the temporary file (or its directory for 'dir-fsync'). */
  function failing(step: 'chmod' | 'write' | 'zero-write' | 'fsync' | 'rename' | 'dir-fsync') {
    const dirFds = new Set<number>();
    const port: AtomicWriteFs = {
      ...nodeAtomicWriteFs,
      openDirectory(d) {
        const fd = nodeAtomicWriteFs.openDirectory(d);
        if (fd !== undefined) dirFds.add(fd);
        return fd;
      },
      chmod(fd, mode) {
        if (step === 'chmod') throw injected('EPERM');
        nodeAtomicWriteFs.chmod(fd, mode);
      },
      write(fd, data, position) {
        if (step === 'write') throw injected('ENOSPC');
        if (step === 'zero-write') return 0;
        // Short writes: one byte at a time, which the helper must loop over.
        return nodeAtomicWriteFs.write(fd, data.subarray(0, 1), position);
      },
      fsync(fd) {
        if (dirFds.has(fd) ? step === 'dir-fsync' : step === 'fsync') throw injected('EIO');
        nodeAtomicWriteFs.fsync(fd);
      },
      rename(from, to) {
        if (step === 'rename') throw injected('EXDEV');
        nodeAtomicWriteFs.rename(from, to);
      },
    };
    return port;
  }

  it('loops over short writes', () => {
    const file = join(dir, 'head');
    writeFileAtomic(file, 'four', 0o600, { ...failing('fsync'), fsync: nodeAtomicWriteFs.fsync });
    expect(readFileSync(file, 'utf8')).toBe('four');
  });

  it.each(['chmod', 'write', 'zero-write', 'fsync', 'rename'] as const)(
    'a failing %s leaves the old content and no temporary file',
    (step) => {
      const file = join(dir, 'head');
      writeFileSync(file, 'old');
      expect(() => writeFileAtomic(file, 'new content', 0o600, failing(step))).toThrow(
        step === 'zero-write' ? /no progress/ : /injected/,
      );
      expect(readFileSync(file, 'utf8')).toBe('old');
      expect(readdirSync(dir)).toEqual(['head']);
    },
  );

  it('a failing directory fsync is reported (the rename may not be durable)', () => {
    const file = join(dir, 'head');
    writeFileSync(file, 'old');
    expect(() => writeFileAtomic(file, 'new', 0o600, failing('dir-fsync'))).toThrow(/EIO/);
  });
});

/** Modules that may rename files themselves, each with why. */
const ALLOWED = [
  'core/fs/atomic-write.ts', // the helper (the audit log's fault tests reach it through its port)
  // Moves whole SQLite databases (written and fsync'd by SQLite's backup), then syncs the dir.
  'server/store/backup.ts',
];

describe('every product file replacement uses writeFileAtomic', () => {
  it('no other module renames files into place', () => {
    const layers = ['shared', 'core', 'cli', 'server', 'emulator', 'electron', 'renderer', 'demo'];
    let out = '';
    try {
      out = execFileSync(
        'git',
        [
          'grep',
          '--untracked',
          '-nE',
          String.raw`\brenameSync\(|\brename\(`,
          '--',
          ...layers,
          'bin',
        ],
        { encoding: 'utf8' },
      );
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e; // 1 = no match
    }
    const hits = out
      .split('\n')
      .filter((l) => l !== '' && !ALLOWED.some((file) => l.startsWith(`${file}:`)));
    expect(hits).toEqual([]);
  });
});
