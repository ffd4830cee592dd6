/**
 * The operator's side of the demo: the server's admin API over loopback HTTP with the bearer
 * token, exactly as `custodian-server` admin commands use it.
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RunningServer } from '../server/app';
import { adminAgentFor } from '../server/admin-cli/admin-client';
import type { PkaStatus } from '../shared/sc-hsm/pka';

/** Calls the admin API; a non-2xx answer throws with the server's message. */
export async function adminCall<T>(
  server: RunningServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const url = new URL(`${server.url}${path}`);
  // The admin CLI's pool: it drops idle connections well before the server closes them
  // (server/net/http-timeouts.ts), which `fetch`'s default pool does not promise.
  const res = await new Promise<{ status: number; ok: boolean; text: string }>(
    (resolve, reject) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        url,
        {
          method,
          agent: adminAgentFor(url),
          headers: {
            authorization: `Bearer ${server.adminToken}`,
            'content-type': 'application/json',
          },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('error', reject);
          r.on('end', () => {
            const status = r.statusCode ?? 0;
            resolve({
              status,
              ok: status >= 200 && status < 300,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    },
  );
  const text = res.text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const message = (json as { error?: unknown }).error;
    throw new Error(
      `${method} ${path}: HTTP ${res.status}: ${typeof message === 'string' ? message : text}`,
    );
  }
  return json as T;
}

/** Target status as the admin API reports it (PKA read from the card, `80 54`). */
export type TargetView = {
  readonly connected: boolean;
  readonly deviceId: string | null;
  readonly pka: PkaStatus | null;
  readonly unlocked: { ceremonyId: string; until: string; signaturesLeft: number } | null;
};

/** Reads the target's status; the PKA part comes from the card itself (docs/card-reference.md §6.4). */
export async function cardStatus(server: RunningServer, target: string): Promise<PkaStatus> {
  const v = await adminCall<TargetView>(
    server,
    'GET',
    `/api/targets/${encodeURIComponent(target)}`,
  );
  if (!v.connected || !v.pka)
    throw new Error(`target ${target} is not reachable or not set up for PKA`);
  return v.pka;
}

/** A ceremony as the admin API shows it. */
export type CeremonyView = {
  readonly id: string;
  readonly state: string;
  readonly deviceId: string;
  readonly quorum: { n: number; m: number };
  readonly progress: { authenticated: number; approvedBy: string[] };
  readonly answers: { custodian: string; outcome: string; sw?: string }[];
  readonly unlocked?: { until: string; signaturesLeft: number } | null;
  readonly reason?: string | null;
};
