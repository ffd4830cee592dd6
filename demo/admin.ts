/**
 * The operator's side of the demo: the server's admin API over loopback HTTP with the bearer
 * token, exactly as `custodian-server` admin commands use it.
 * @module
 */
import type { RunningServer } from '../server/app';
import type { PkaStatus } from '../shared/sc-hsm/pka';

/** Calls the admin API; a non-2xx answer throws with the server's message. */
export async function adminCall<T>(
  server: RunningServer,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
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
