/**
 * The admin CLI's HTTP client for the server's `/api/…`, typed by the admin contract
 * (server/api/admin-contract.ts). It trusts exactly the server's certificate it is given (the
 * self-signed one from the data dir, or `--ca`: server/cli/connection.ts finds them), never the
 * system CAs blindly for an admin token.
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import { pathPattern } from '../api/admin-contract';

/** Where and how to reach the server. */
export type ServerTarget = {
  readonly url: string;
  readonly token: string;
  readonly ca: string | undefined;
};

/** What every admin command receives: the server, resolved by the dispatcher (server/cli). */
export type Connected = { readonly conn: ServerTarget };

/** An HTTP error answer of the server. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

function open(
  t: ServerTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<IncomingMessage> {
  const u = new URL(path, `${t.url}/`);
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    authorization: `Bearer ${t.token}`,
    accept: 'application/json',
  };
  if (data !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const opts = { method, headers, ...(t.ca === undefined ? {} : { ca: t.ca }) };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, resolve);
    req.on('error', (e) => reject(new Error(`cannot reach the server at ${t.url}: ${e.message}`)));
    req.end(data);
  });
}

/** The part of a contract route (server/api/admin-contract.ts) the client needs. */
export type ClientRoute<S extends z.ZodType> = {
  readonly method: string;
  readonly path: string;
  readonly response: S;
};

/** An answer of the server that does not match the API contract. */
export class ApiContractError extends Error {
  override readonly name = 'ApiContractError';
}

function check<S extends z.ZodType>(
  route: ClientRoute<S>,
  path: string,
  json: unknown,
): z.output<S> {
  const r = route.response.safeParse(json);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new ApiContractError(
    `the server's answer to ${route.method} ${path} does not match the admin API: ${
      i && i.path.length ? `${i.path.join('.')}: ` : ''
    }${i?.message ?? 'invalid'}`,
  );
}

function checkPath(route: ClientRoute<z.ZodType>, path: string): void {
  const pathname = new URL(path, 'http://x').pathname;
  if (!pathPattern(route.path).test(pathname))
    throw new Error(`internal: ${pathname} is not a path of ${route.method} ${route.path}`);
}

/**
 * Sends a JSON request to `route` (at `path`, its parameters filled in and encoded) and returns
 * the answer validated against the route's response schema; non-2xx answers throw ApiError, an
 * answer of the wrong shape ApiContractError.
 */
export async function api<S extends z.ZodType>(
  t: ServerTarget,
  route: ClientRoute<S>,
  path: string,
  body?: unknown,
): Promise<z.output<S>> {
  checkPath(route, path);
  const res = await open(t, route.method, path, body);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(
      res.statusCode ?? 0,
      `server answered ${res.statusCode} with non-JSON`,
      text,
    );
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) throw new ApiError(status, errorOf(json, status), json);
  return check(route, path, json);
}

/** The `error` line of an error answer, or the status. */
function errorOf(json: unknown, status: number): string {
  const msg = typeof json === 'object' && json !== null && 'error' in json ? json.error : undefined;
  return typeof msg === 'string' ? msg : `HTTP ${status}`;
}

/** Reads server-sent events of `path`, calling `onData` with each event's parsed data. */
export async function events<S extends z.ZodType>(
  t: ServerTarget,
  route: ClientRoute<S>,
  path: string,
  onData: (data: z.output<S>) => void,
): Promise<void> {
  checkPath(route, path);
  const res = await open(t, route.method, path);
  if ((res.statusCode ?? 0) !== 200) {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    let message = `HTTP ${res.statusCode}`;
    try {
      message = errorOf(JSON.parse(Buffer.concat(chunks).toString('utf8')), res.statusCode ?? 0);
    } catch {
      // keep the status line
    }
    throw new ApiError(res.statusCode ?? 0, message, undefined);
  }
  let buffer = '';
  for await (const chunk of res) {
    buffer += (chunk as Buffer).toString('utf8');
    let i: number;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) onData(check(route, path, JSON.parse(data)));
    }
  }
}
