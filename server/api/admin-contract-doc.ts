/**
 * The admin API contract's field lists, for server/README.md and its drift check
 * (test/unit/server/admin-api-docs.test.ts).
 * @module
 */
import { z } from 'zod';
import { ADMIN_API } from './admin-contract';

/** Top-level field names of an object schema, `?` marking optional ones. */
export function fieldsOf(schema: z.ZodType | undefined): string[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([k, s]) =>
    s.safeParse(undefined).success ? `${k}?` : k,
  );
}

/** One documented route: heading and the fields its text must name. */
export type RouteDoc = {
  readonly heading: string;
  readonly request: string[];
  readonly response: string[];
};

/** Every contract route as server/README.md documents it. */
export function routeDocs(): RouteDoc[] {
  return Object.values(ADMIN_API).map((r) => ({
    heading: `${r.method} ${r.path}`,
    request: fieldsOf(r.request),
    response: fieldsOf(r.response),
  }));
}
