/**
 * Admin API routes under `/api/…` (JSON; `Authorization: Bearer <admin token>`). Every body
 * is validated with zod before use.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fromHex } from '../../shared/codec/bytes';
import type { CeremonyEngine } from '../ceremonies/engine';
import type { Enrollment } from '../enroll/enrollment';
import type { Store } from '../store/store';
import { generateTargetKey } from '../targets/target-keygen';
import {
  initializeTarget,
  signingKey,
  targetKeys,
  type PkaInitOptions,
} from '../targets/target-admin';
import type { TargetService } from '../targets/target-service';
import { inspectConsistency, reconcileTarget } from '../targets/consistency';
import { HttpError, readJson, reply } from './http-util';
import { ADMIN_API, pathPattern, type AnyAdminRoute } from './admin-contract';
import { keygenType, parse } from './schemas';
import { signBatch } from './sign-route';
import { streamCeremony } from './sse';

/** What the routes need. */
export type ApiDeps = {
  readonly store: Store;
  readonly targets: ReadonlyMap<string, TargetService>;
  readonly engine: CeremonyEngine;
  readonly enrollment: Enrollment;
  /** Server URL and TLS fingerprint for invites. */
  readonly invite: () => { url: string; fingerprint: string | undefined; serverName?: string };
};

function target(deps: ApiDeps, name: string): TargetService {
  const t = deps.targets.get(name);
  if (!t) throw new HttpError(404, `unknown target "${name}"`);
  return t;
}

type Handler = (
  deps: ApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  params: string[],
) => Promise<void>;

const routes: Array<[AnyAdminRoute, Handler]> = [
  [
    ADMIN_API.listTargets,
    async (d, _q, res) => {
      const out = [];
      for (const t of d.targets.values()) out.push(await t.status());
      reply(res, ADMIN_API.listTargets, 200, { targets: out });
    },
  ],
  [
    ADMIN_API.targetStatus,
    async (d, _q, res, [name]) => {
      const t = target(d, name!);
      const custodians = d.store.custodians.forTarget(t.name).map((c) => ({
        id: c.id,
        name: c.name,
        keyChr: c.keyChr,
        keyId: c.keyId ?? null,
        enrolled: c.hasCredential,
        enrolledAt: c.enrolledAt,
      }));
      const status = await t.status();
      const consistency = await inspectConsistency(d.store, t, new Date());
      reply(res, ADMIN_API.targetStatus, 200, { ...status, custodians, consistency });
    },
  ],
  [
    ADMIN_API.initialize,
    async (d, req, res, [name]) => {
      const body = parse(ADMIN_API.initialize.request, await readJson(req));
      // Drop absent options (exactOptionalPropertyTypes: never pass undefined on).
      const opts = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      const r = await initializeTarget(d.store, target(d, name!), opts as PkaInitOptions);
      reply(res, ADMIN_API.initialize, 200, {
        ...r.status,
        ...(r.soPin ? { soPin: r.soPin } : {}),
      });
    },
  ],
  [
    ADMIN_API.listKeys,
    async (d, _q, res, [name]) => {
      reply(res, ADMIN_API.listKeys, 200, { keys: await targetKeys(target(d, name!)) });
    },
  ],
  [
    ADMIN_API.keygen,
    async (d, req, res, [name]) => {
      const body = parse(ADMIN_API.keygen.request, await readJson(req));
      const t = target(d, name!);
      const key = await generateTargetKey(d.store, t, {
        label: body.label,
        type: keygenType(body),
      });
      reply(res, ADMIN_API.keygen, 201, { ...key, unlocked: t.unlocked ?? null });
    },
  ],
  [
    ADMIN_API.key,
    async (d, _q, res, [name, key]) => {
      // `key` is already decoded once (route); decoding again would misread a label with `%`.
      reply(res, ADMIN_API.key, 200, await signingKey(target(d, name!), key!));
    },
  ],
  [
    ADMIN_API.sign,
    async (d, req, res, [name]) => {
      const body = parse(ADMIN_API.sign.request, await readJson(req));
      await signBatch(d.store, target(d, name!), body, res);
    },
  ],
  [
    ADMIN_API.lock,
    async (d, _q, res, [name]) => {
      const t = target(d, name!);
      await t.lock('admin');
      d.store.audit.append('target-reset', { target: t.name, by: 'admin' });
      reply(res, ADMIN_API.lock, 200, await t.status());
    },
  ],
  [
    ADMIN_API.reconcile,
    async (d, req, res, [name]) => {
      const body = parse(ADMIN_API.reconcile.request, await readJson(req));
      const t = target(d, name!);
      const r = await reconcileTarget(d.store, t, body.acknowledge === true, new Date());
      reply(res, ADMIN_API.reconcile, 200, { consistency: r });
    },
  ],
  [
    ADMIN_API.registerPka,
    async (d, req, res, [name]) => {
      const body = parse(ADMIN_API.registerPka.request, await readJson(req));
      const c = await d.enrollment.registerPka(name!, body.name, fromHex(body.pka));
      const { token, expiresAt } = d.enrollment.createToken(c.target, c.name, undefined, c.id);
      reply(res, ADMIN_API.registerPka, 201, {
        custodian: { id: c.id, name: c.name, keyChr: c.keyChr },
        invite: { ...d.invite(), token, expiresAt },
      });
    },
  ],
  [
    ADMIN_API.enroll,
    async (d, req, res) => {
      const body = parse(ADMIN_API.enroll.request, await readJson(req));
      const { token, expiresAt } = d.enrollment.createToken(
        body.target,
        body.name,
        body.expiresInSeconds,
      );
      reply(res, ADMIN_API.enroll, 201, {
        target: body.target,
        name: body.name,
        ...d.invite(),
        token,
        expiresAt,
      });
    },
  ],
  [
    ADMIN_API.listCeremonies,
    async (d, _q, res) =>
      reply(res, ADMIN_API.listCeremonies, 200, { ceremonies: d.engine.list() }),
  ],
  [
    ADMIN_API.requestCeremony,
    async (d, req, res) => {
      const body = parse(ADMIN_API.requestCeremony.request, await readJson(req));
      const snap = await d.engine.request({
        target: body.target,
        purpose: body.purpose,
        requester: body.requester,
        ...(body.expiresInSeconds === undefined ? {} : { expiresInSeconds: body.expiresInSeconds }),
      });
      reply(res, ADMIN_API.requestCeremony, 201, snap);
    },
  ],
  [
    ADMIN_API.ceremony,
    async (d, _q, res, [id]) => {
      const snap = d.engine.get(id!);
      if (!snap) throw new HttpError(404, `no ceremony ${id}`);
      reply(res, ADMIN_API.ceremony, 200, snap);
    },
  ],
  [ADMIN_API.ceremonyEvents, async (d, req, res, [id]) => streamCeremony(d.engine, id!, req, res)],
  [
    ADMIN_API.cancelCeremony,
    async (d, _q, res, [id]) => {
      reply(res, ADMIN_API.cancelCeremony, 200, await d.engine.cancel(id!, 'admin'));
    },
  ],
  [
    ADMIN_API.audit,
    async (d, req, res) => {
      const limit = Math.min(
        1000,
        Math.max(
          1,
          Number(new URL(req.url ?? '/', 'http://x').searchParams.get('limit') ?? 100) || 100,
        ),
      );
      const v = d.store.audit.verify();
      reply(res, ADMIN_API.audit, 200, {
        verified: v.ok ? v.value : null,
        error: v.ok ? null : v.error,
        entries: d.store.audit.tail(limit),
      });
    },
  ],
];

// The route table with each contract path compiled once.
const compiled = routes.map(
  ([r, handler]) => [{ method: r.method, re: pathPattern(r.path) }, handler] as const,
);

/** Method and path pattern of every route this table serves (for the documentation check). */
export const ROUTE_TABLE: ReadonlyArray<{ method: string; path: string }> = routes.map(([r]) => ({
  method: r.method,
  path: r.path,
}));

/** Longest path parameter (decoded) a route accepts: names, ids and labels are far shorter. */
export const MAX_PARAM_CHARS = 256;

/**
 * Decodes one path parameter. A malformed `%` escape (or one that is not UTF-8) and an over-long
 * parameter are the client's error: 400 with one line, never an internal error.
 */
export function decodeParam(raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'malformed percent-escape in the request path');
  }
  if (value.length > MAX_PARAM_CHARS)
    throw new HttpError(400, `path parameter longer than ${MAX_PARAM_CHARS} characters`);
  return value;
}

/** Finds and runs the route for a request; false when none matches the path. */
export async function route(
  deps: ApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  let pathMatched = false;
  for (const [r, handler] of compiled) {
    const method = r.method;
    const m = r.re.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (method !== req.method) continue;
    await handler(deps, req, res, m.slice(1).map(decodeParam));
    return true;
  }
  if (pathMatched) throw new HttpError(405, `method ${req.method ?? '?'} not allowed on ${path}`);
  return false;
}
