import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIREWALL_RULES } from '../../../shared/policy/firewall-rules';

// Every comment and doc cites the project's own card reference by section number
// ("docs/card-reference.md §6.6"); this keeps each cited section real as code and doc change, and
// keeps pointers to documents a clone does not have out of the repository.

const REFERENCE = 'docs/card-reference.md';
const TEXT = /\.(ts|tsx|mjs|cjs|js|md|json|html|css|yml|yaml|sh)$/;

function trackedTextFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => TEXT.test(f) && !f.startsWith('node_modules/') && f !== 'package-lock.json');
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // listed but deleted in the work tree
  }
}

/** Section numbers and appendix letters that exist as headings in the reference. */
export function headingsOf(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const m of markdown.matchAll(/^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s/gm)) found.add(`§${m[1]}`);
  for (const m of markdown.matchAll(/^#{2,4}\s+Appendix ([A-Z])\b/gm))
    found.add(`Appendix ${m[1]}`);
  return found;
}

const SECTION = /§(\d+(?:\.\d+)*)|Appendix ([A-Z])\b/g;
/**
 * What follows the document name up to the end of the citation: `)`, a table cell, a sentence,
 * another document or another standard's numbering.
 */
const CITATION_END = /\)|\||\.(?=\s|$)|\n\s*\n|[\w-]+\.md\b|ISO|RFC/;

/** Every section a text cites after `card-reference.md`, as `§N` or `Appendix <letter>`. */
export function citedSections(text: string): string[] {
  const out: string[] = [];
  for (const c of text.matchAll(/card-reference\.md(?:\]\([^)]*\))?/g)) {
    const rest = text.slice((c.index ?? 0) + c[0].length, (c.index ?? 0) + c[0].length + 160);
    const end = rest.search(CITATION_END);
    for (const s of (end < 0 ? rest : rest.slice(0, end)).matchAll(SECTION)) {
      out.push(s[1] ? `§${s[1]}` : `Appendix ${s[2]}`);
    }
  }
  return out;
}

/** Files that declare bare `§N` to mean the card reference (header line or README sentence). */
const DECLARES_BARE =
  /Section numbers refer to (?:\[?docs\/)?card-reference\.md|card-reference\.md\]\([^)]*\) \(cited below as §n\)/;
/** Bare `§N` in such files, except numbers of other standards (ISO/IEC 7816, RFC). */
function bareSections(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(.{0,16})§(\d+(?:\.\d+)*)/g)) {
    if (/7816|RFC|ISO|X\.690/.test(m[1] ?? '')) continue;
    out.push(`§${m[2]}`);
  }
  return out;
}

describe('docs/card-reference.md citations', () => {
  const headings = headingsOf(read(REFERENCE));
  const files = trackedTextFiles();

  it('parses the reference headings and citation lists', () => {
    expect(headings.has('§6.6')).toBe(true);
    expect(headings.has('§13.14')).toBe(true);
    expect(headings.has('Appendix A')).toBe(true);
    expect(
      citedSections('(docs/card-reference.md §6.6 step 4, §12.1 and\n * §13.1; Appendix B)'),
    ).toEqual(['§6.6', '§12.1', '§13.1', 'Appendix B']);
    expect(citedSections('docs/card-reference.md\n   * §5.2')).toEqual(['§5.2']);
    expect(headingsOf('## 3. PIN\n### 3.1 VERIFY\n## Appendix A. Roots')).toEqual(
      new Set(['§3', '§3.1', 'Appendix A']),
    );
  });

  it('every cited section exists as a heading', () => {
    const missing: string[] = [];
    let citations = 0;
    for (const file of files) {
      const text = read(file);
      const cited = [
        ...citedSections(text),
        ...(DECLARES_BARE.test(text) ? bareSections(text) : []),
      ];
      citations += cited.length;
      for (const s of cited) if (!headings.has(s)) missing.push(`${file}: ${s}`);
    }
    expect(missing).toEqual([]);
    expect(citations).toBeGreaterThan(300);
  });

  it('every firewall rule cites existing sections', () => {
    const missing = FIREWALL_RULES.flatMap((r) =>
      [...r.reference.matchAll(SECTION)]
        .map((s) => (s[1] ? `§${s[1]}` : `Appendix ${s[2]}`))
        .filter((s) => !headings.has(s))
        .map((s) => `${r.id}: ${s}`),
    );
    expect(missing).toEqual([]);
  });

  it('nothing points at documents that are not in the repository', () => {
    const dangling: string[] = [];
    const pointers = [
      /\breference §/i, // the old research reference, cited without a path
      /shared\/research/,
      /schsm-apdu-reference|remote-protocols|aesthetics-anchors/,
      /DEVELOPERS\.md/,
    ];
    for (const file of files) {
      if (file === 'test/unit/docs/card-reference-citations.test.ts') continue;
      read(file)
        .split('\n')
        .forEach((line, i) => {
          if (pointers.some((p) => p.test(line))) dangling.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(dangling).toEqual([]);
  });
});
