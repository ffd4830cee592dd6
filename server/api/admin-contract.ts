/**
 * The admin HTTP API's contract: every route's method, path pattern, request body schema and
 * response schema, in one table. The server's route table is built from it (method and path),
 * the admin CLI validates every answer against it (a mismatch is a clear error, never a cast),
 * and a unit test checks that server/README.md documents every route with its fields.
 * Response schemas are open objects (`looseObject`): they pin the fields a client relies on and
 * let the server add more without breaking older clients.
 * @module
 */
import { z } from 'zod';
import {
  ceremonySchema,
  initSchema,
  keygenSchema,
  pkaSchema,
  reconcileSchema,
  signSchema,
  tokenSchema,
} from './schemas';

/** One route of the admin API. */
export type AdminRoute<Req extends z.ZodType | undefined, Res extends z.ZodType> = {
  readonly method: 'GET' | 'POST';
  /** Path with `:name` parameters, e.g. `/api/targets/:t/keys/:k`. */
  readonly path: string;
  /** Body schema of a request; undefined for routes without a body. */
  readonly request: Req;
  /** Schema of a 2xx answer. */
  readonly response: Res;
};

const route = <Req extends z.ZodType | undefined, Res extends z.ZodType>(
  r: AdminRoute<Req, Res>,
): AdminRoute<Req, Res> => r;

/** A target's unlock window as the API reports it (null when locked). */
const unlockedSchema = z
  .looseObject({ ceremonyId: z.string(), until: z.string(), signaturesLeft: z.number() })
  .nullish();
/** `TargetService.status()`. */
const targetStatusSchema = z.looseObject({
  name: z.string(),
  deviceId: z.string().optional(),
  connected: z.boolean(),
  pka: z
    .looseObject({ m: z.number(), missing: z.number(), n: z.number(), authenticated: z.number() })
    .nullish(),
  unlocked: unlockedSchema,
});
/** Card/store disagreement (null when they agree). */
export const consistencySchema = z
  .looseObject({
    state: z.enum(['inconsistent', 'acknowledged']),
    detail: z.string(),
    since: z.string(),
    registeredOnCard: z.number().optional(),
    knownToServer: z.number(),
    unknownKeys: z.array(z.string()).readonly().optional(),
  })
  .nullable();
/** A ceremony snapshot. */
export const snapshotSchema = z.looseObject({
  id: z.string(),
  target: z.string(),
  state: z.string(),
  purpose: z.string(),
  requester: z.string(),
  expiresAt: z.string(),
  quorum: z.looseObject({ n: z.number(), m: z.number() }),
  progress: z.looseObject({ authenticated: z.number(), approvedBy: z.array(z.string()) }),
  reason: z.string().optional(),
  unlocked: z.looseObject({ until: z.string(), signaturesLeft: z.number() }).nullish(),
});
/** An enrollment invite. */
const inviteSchema = z.looseObject({
  url: z.string(),
  fingerprint: z.string().nullish(),
  /** The server's display name (server config `name`), when set. */
  serverName: z.string().optional(),
  token: z.string(),
  expiresAt: z.string(),
});
/** A signing key of a target. */
const keySchema = z.looseObject({
  id: z.number(),
  /** Absent from servers before RSA support: EC. */
  type: z.enum(['ec', 'rsa']).optional(),
  label: z.string().optional(),
  chr: z.string().optional(),
  publicKeyPem: z.string(),
  deviceId: z.string(),
});
/** A PKCS#11 client (its credential is never listed). */
const pkcs11ClientSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullish(),
});
/** `POST /api/pkcs11-clients`. */
const nameOnly = z.strictObject({ name: z.string().min(1).max(64) });

/** Every admin route, in the server's match order. */
export const ADMIN_API = {
  health: route({
    method: 'GET',
    path: '/api/health',
    request: undefined,
    response: z.looseObject({
      ok: z.boolean(),
      status: z.string(),
      fingerprint: z.string().nullable(),
    }),
  }),
  listTargets: route({
    method: 'GET',
    path: '/api/targets',
    request: undefined,
    response: z.looseObject({ targets: z.array(targetStatusSchema) }),
  }),
  targetStatus: route({
    method: 'GET',
    path: '/api/targets/:t',
    request: undefined,
    response: targetStatusSchema.extend({
      custodians: z.array(
        z.looseObject({ name: z.string(), keyChr: z.string(), enrolled: z.boolean() }),
      ),
      consistency: consistencySchema.optional(),
    }),
  }),
  initialize: route({
    method: 'POST',
    path: '/api/targets/:t/initialize',
    request: initSchema,
    // `deviceId` is absent when the target was not reachable for the status after setup.
    response: z.looseObject({ deviceId: z.string().optional(), soPin: z.string().optional() }),
  }),
  listKeys: route({
    method: 'GET',
    path: '/api/targets/:t/keys',
    request: undefined,
    response: z.looseObject({ keys: z.array(z.looseObject({ id: z.number() })) }),
  }),
  keygen: route({
    method: 'POST',
    path: '/api/targets/:t/keys',
    request: keygenSchema,
    response: z.looseObject({
      id: z.number(),
      label: z.string().optional(),
      chr: z.string().optional(),
      keyType: z.string(),
      curve: z.string().optional(),
      publicKeyPem: z.string(),
      deviceId: z.string(),
      ceremonyId: z.string(),
      unlocked: unlockedSchema,
    }),
  }),
  key: route({
    method: 'GET',
    path: '/api/targets/:t/keys/:k',
    request: undefined,
    response: keySchema,
  }),
  sign: route({
    method: 'POST',
    path: '/api/targets/:t/sign',
    request: signSchema,
    // Also the body of a part-way refusal (4xx/5xx with `error`, `code` and `signatures`).
    response: z.looseObject({
      keyId: z.number().optional(),
      // Each signature's form (hex, at most one per digest) depends on the request: the client
      // checks it against its batch (server/admin-cli/sign-batch.ts).
      signatures: z.array(z.unknown()),
      unlocked: unlockedSchema,
    }),
  }),
  lock: route({
    method: 'POST',
    path: '/api/targets/:t/lock',
    request: undefined,
    response: targetStatusSchema,
  }),
  reconcile: route({
    method: 'POST',
    path: '/api/targets/:t/reconcile',
    request: reconcileSchema,
    response: z.looseObject({ consistency: consistencySchema }),
  }),
  registerPka: route({
    method: 'POST',
    path: '/api/targets/:t/custodians',
    request: pkaSchema,
    response: z.looseObject({
      custodian: z.looseObject({ id: z.string(), name: z.string(), keyChr: z.string() }),
      invite: inviteSchema,
    }),
  }),
  enroll: route({
    method: 'POST',
    path: '/api/enrollments',
    request: tokenSchema,
    response: inviteSchema.extend({ target: z.string(), name: z.string() }),
  }),
  listCeremonies: route({
    method: 'GET',
    path: '/api/ceremonies',
    request: undefined,
    response: z.looseObject({ ceremonies: z.array(snapshotSchema) }),
  }),
  requestCeremony: route({
    method: 'POST',
    path: '/api/ceremonies',
    request: ceremonySchema,
    response: snapshotSchema,
  }),
  ceremony: route({
    method: 'GET',
    path: '/api/ceremonies/:id',
    request: undefined,
    response: snapshotSchema,
  }),
  ceremonyEvents: route({
    method: 'GET',
    path: '/api/ceremonies/:id/events',
    request: undefined,
    // Server-sent events: each event's data is a snapshot.
    response: snapshotSchema,
  }),
  cancelCeremony: route({
    method: 'POST',
    path: '/api/ceremonies/:id/cancel',
    request: undefined,
    response: snapshotSchema,
  }),
  audit: route({
    method: 'GET',
    path: '/api/audit',
    request: undefined,
    response: z.looseObject({
      verified: z.looseObject({ entries: z.number(), head: z.string() }).nullable(),
      error: z.looseObject({ message: z.string() }).nullable(),
      entries: z.array(
        z.looseObject({ seq: z.number(), time: z.string(), event: z.string(), data: z.unknown() }),
      ),
    }),
  }),
  listPkcs11Clients: route({
    method: 'GET',
    path: '/api/pkcs11-clients',
    request: undefined,
    response: z.looseObject({ clients: z.array(pkcs11ClientSchema) }),
  }),
  createPkcs11Client: route({
    method: 'POST',
    path: '/api/pkcs11-clients',
    request: nameOnly,
    response: z.looseObject({ client: pkcs11ClientSchema, credential: z.string() }),
  }),
  revokePkcs11Client: route({
    method: 'POST',
    path: '/api/pkcs11-clients/:name/revoke',
    request: undefined,
    response: z.looseObject({ client: pkcs11ClientSchema }),
  }),
} as const;

/** Any route of the contract. */
export type AnyAdminRoute = (typeof ADMIN_API)[keyof typeof ADMIN_API];

/** The regular expression a route's path pattern matches (one group per `:param`). */
export function pathPattern(path: string): RegExp {
  const body = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '([^/]+)' : seg.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')))
    .join('\\/');
  return new RegExp(`^${body}$`);
}

/**
 * The answer body of `route` as the server builds it: handlers pass their body through this
 * type (`reply`), so a handler whose answer drifts from the contract does not compile.
 */
export type AnswerOf<R extends { readonly response: z.ZodType }> = z.input<R['response']>;
