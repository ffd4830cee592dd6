/**
 * The admin API contract, the server's route table and server/README.md cannot drift: every
 * route the server serves is in the contract, and the README documents every contract route
 * with each of its request and answer fields.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_API, pathPattern } from '../../../server/api/admin-contract';
import { fieldsOf, routeDocs } from '../../../server/api/admin-contract-doc';
import { ROUTE_TABLE } from '../../../server/api/routes';

const readme = readFileSync(new URL('../../../server/README.md', import.meta.url), 'utf8');
const contract = new Set(Object.values(ADMIN_API).map((r) => `${r.method} ${r.path}`));

/** The README table row of a route (`| \`GET /api/…\` | … | … |`). */
function row(heading: string): string | undefined {
  return readme.split('\n').find((l) => l.startsWith(`| \`${heading}\` |`));
}

describe('admin API documentation', () => {
  it('every route of the server route table is in the contract', () => {
    expect(ROUTE_TABLE.length).toBeGreaterThan(10);
    for (const r of ROUTE_TABLE)
      expect(contract, `${r.method} ${r.path}`).toContain(`${r.method} ${r.path}`);
  });

  it.each(routeDocs().map((d) => [d.heading, d] as const))(
    '%s is documented with its request and answer fields',
    (_h, d) => {
      const line = row(d.heading);
      expect(line, `server/README.md has no row for ${d.heading}`).toBeDefined();
      const [, , request = '', answer = ''] = line!.split('|');
      for (const f of d.request) expect(request, `${d.heading} request`).toContain(`\`${f}\``);
      for (const f of d.response) expect(answer, `${d.heading} answer`).toContain(`\`${f}\``);
    },
  );

  it('the README documents no route the contract lacks', () => {
    const documented = readme
      .split('\n')
      .map((l) => /^\| `((?:GET|POST|PUT|DELETE) \/api\/[^`]*)` \|/.exec(l)?.[1])
      .filter((h): h is string => h !== undefined);
    expect(documented.sort()).toEqual([...contract].sort());
  });

  it('field lists and path patterns read the contract as the server does', () => {
    expect(fieldsOf(ADMIN_API.sign.request)).toEqual(['key', 'digests']);
    expect(fieldsOf(undefined)).toEqual([]);
    const re = pathPattern(ADMIN_API.key.path);
    expect(re.exec('/api/targets/t1/keys/a%20b')?.slice(1)).toEqual(['t1', 'a%20b']);
    expect(re.test('/api/targets/t1/keys')).toBe(false);
    expect(re.test('/api/targets/t1/keys/k/x')).toBe(false);
  });
});
