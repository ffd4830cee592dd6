import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/security.md promises a test for every threat it lists. This keeps the promise true: each
// table row names at least one test file that exists, and every test title it quotes (“…”,
// possibly shortened with "…") is in the file named before it in the same cell.

type Row = { readonly id: string; readonly tests: string };

function rowsOf(markdown: string): Row[] {
  const start = markdown.indexOf('| # | threat | mitigation | shown by |');
  if (start < 0) return [];
  const rows: Row[] = [];
  for (const line of markdown.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(' | ');
    rows.push({ id: (cells[0] ?? '').replace(/^\|\s*/, ''), tests: cells.at(-1) ?? '' });
  }
  return rows;
}

/** Pairs of (file, quoted title) in a cell; a title belongs to the nearest file before it. */
function citationsOf(cell: string): { files: string[]; titles: [string, string][] } {
  const files: string[] = [];
  const titles: [string, string][] = [];
  for (const m of cell.matchAll(/`(test\/[^`]+)`|“([^”]+)”/g)) {
    if (m[1] !== undefined) files.push(m[1].replace(/\/$/, ''));
    else if (m[2] !== undefined && files.length > 0) titles.push([files.at(-1)!, m[2]]);
  }
  return { files, titles };
}

describe('docs/security.md', () => {
  const rows = rowsOf(readFileSync('docs/security.md', 'utf8'));

  it('lists the threats, each issue 7 item among them', () => {
    const ids = rows.map((r) => r.id);
    for (let i = 1; i <= 13; i++) expect(ids).toContain(`7.${i}`);
  });

  it('names an existing test file in every row', () => {
    for (const row of rows) {
      const { files } = citationsOf(row.tests);
      expect(files.length, `row ${row.id} names no test`).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(f), `row ${row.id}: ${f}`).toBe(true);
    }
  });

  it('quotes only test titles that are in the file it names', () => {
    for (const row of rows) {
      for (const [file, title] of citationsOf(row.tests).titles) {
        const text = readFileSync(file, 'utf8');
        for (const part of title.split('…').map((p) => p.trim())) {
          if (part !== '') expect(text, `row ${row.id}: “${title}” in ${file}`).toContain(part);
        }
      }
    }
  });
});
