/**
 * The sign CLI's hasher (server/admin-cli/hash-ahead.ts): batches depend only on the files
 * (count and sizes), never on which hash finishes first; every file is hashed once; a file
 * that cannot be read fails its batch with its name.
 */
import { describe, expect, it } from 'vitest';
import type { FileDigest } from '../../../server/admin-cli/file-digest';
import { hashAhead } from '../../../server/admin-cli/hash-ahead';

/** A hasher whose answers arrive in an order the test chooses (here: latest call first). */
function reversedHasher(sizes: ReadonlyMap<string, number>, failing?: string) {
  const calls: string[] = [];
  const pending: Array<() => void> = [];
  const hash = (path: string): Promise<FileDigest> => {
    calls.push(path);
    return new Promise((resolve, reject) => {
      pending.push(() =>
        path === failing
          ? reject(new Error('EIO: i/o error'))
          : resolve({ sha256: `h-${path}`, size: sizes.get(path)! }),
      );
      // Answer the most recent call first, once the current tick's calls are in.
      queueMicrotask(() => setTimeout(() => pending.pop()?.(), 0));
    });
  };
  return { hash, calls };
}

async function allBatches(h: ReturnType<typeof hashAhead>, maxFiles: number, maxBytes: number) {
  const out: string[][] = [];
  for (;;) {
    const b = await h.next(maxFiles, maxBytes);
    if (b.length === 0) return out;
    out.push(b.map((x) => x.file));
  }
}

describe('hashAhead', () => {
  it('batches close at the file count or the byte count, in file order, whatever finishes first', async () => {
    const sizes = new Map<string, number>([
      ...Array.from({ length: 10 }, (_, i) => [`s${i}`, 10] as const),
      ['big1', 1000],
      ['big2', 1000],
      ['s10', 10],
    ]);
    const files = [...sizes.keys()];
    const { hash, calls } = reversedHasher(sizes);
    const batches = await allBatches(hashAhead(files, 8, hash), 4, 500);
    expect(batches).toEqual([
      ['s0', 's1', 's2', 's3'],
      ['s4', 's5', 's6', 's7'],
      ['s8', 's9', 'big1'],
      ['big2'],
      ['s10'],
    ]);
    expect([...calls].sort()).toEqual([...files].sort());
  });

  it('a file that cannot be read fails its batch, naming it; the batches before it stand', async () => {
    const sizes = new Map(Array.from({ length: 9 }, (_, i) => [`f${i}`, 1] as const));
    const { hash } = reversedHasher(sizes, 'f5');
    const h = hashAhead([...sizes.keys()], 8, hash);
    expect((await h.next(4, 1 << 20)).map((x) => x.file)).toEqual(['f0', 'f1', 'f2', 'f3']);
    await expect(h.next(4, 1 << 20)).rejects.toThrow(/cannot read f5: EIO/);
  });
});
