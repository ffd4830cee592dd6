/**
 * Intent and outcome audit entries around an irreversible card step that is not an approval
 * (server/README.md "Intent before every card step"): the intent is stored before the card is
 * asked — its failure refuses the operation untouched — and the outcome after; an outcome that
 * cannot be stored is contained (the step happened, the intent covers it), and at the next start
 * every intent without an outcome is recorded as unresolved.
 * @module
 */
import type { AuditData } from '../../shared/audit/audit-chain';
import type { ServerAuditEvent } from './audit';
import { newId } from './secrets';
import type { Store } from './store';

/** Card steps recorded with an intent. */
export type IntentKind = 'sign' | 'keygen' | 'target-init';

const KINDS: Record<
  IntentKind,
  {
    readonly intent: ServerAuditEvent;
    readonly outcomes: readonly ServerAuditEvent[];
    readonly unresolved: ServerAuditEvent;
    /** The data field naming the intent in its outcome. */
    readonly idField: string;
    readonly prefix: string;
  }
> = {
  sign: {
    intent: 'sign-intent',
    outcomes: ['signed', 'sign-refused', 'sign-unresolved'],
    unresolved: 'sign-unresolved',
    idField: 'batchId',
    prefix: 'sig',
  },
  keygen: {
    intent: 'keygen-intent',
    outcomes: ['key-generated', 'keygen-refused', 'keygen-unresolved'],
    unresolved: 'keygen-unresolved',
    idField: 'intentId',
    prefix: 'kg',
  },
  'target-init': {
    intent: 'target-init-intent',
    outcomes: ['target-initialized', 'target-init-refused', 'target-init-unresolved'],
    unresolved: 'target-init-unresolved',
    idField: 'intentId',
    prefix: 'ti',
  },
};

/** An intent stored before its card step. */
export type Intent = { readonly kind: IntentKind; readonly id: string; readonly idField: string };

/** Stores the intent (throws when the store cannot be written: do not touch the card then). */
export function recordIntent(store: Store, kind: IntentKind, data: AuditData): Intent {
  const k = KINDS[kind];
  const id = newId(k.prefix);
  store.audit.append(k.intent, { [k.idField]: id, ...data });
  return { kind, id, idField: k.idField };
}

/**
 * Stores the outcome of an intent's card step (`event` is one of its outcome events). Never
 * throws: a failure is reported to the store health and false returned.
 */
export function recordOutcome(
  store: Store,
  intent: Intent,
  event: ServerAuditEvent,
  data: AuditData,
): boolean {
  try {
    store.audit.append(event, { [intent.idField]: intent.id, ...data });
    return true;
  } catch (e) {
    store.health.failed(`audit ${event} for ${intent.id}`, e);
    return false;
  }
}

/** At start: every intent without an outcome is recorded as unresolved (call in a transaction). */
export function resolveInterruptedIntents(store: Store): number {
  let n = 0;
  for (const k of Object.values(KINDS)) {
    for (const entry of store.audit.unresolvedIntents(k.intent, k.outcomes, k.idField)) {
      const d = entry.data as Record<string, unknown>;
      store.audit.append(k.unresolved, {
        [k.idField]: String(d[k.idField]),
        intentSeq: entry.seq,
        ...(typeof d['target'] === 'string' ? { target: d['target'] } : {}),
        reason: 'the server stopped during this card step; its outcome was not recorded',
      });
      n++;
    }
  }
  return n;
}
