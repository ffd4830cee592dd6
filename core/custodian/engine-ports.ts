/**
 * The two outlets every part of the engine writes to: the audit log (wrapped so a failing log
 * is a `false`, never an exception in the middle of a ceremony) and the event stream the front
 * ends render (a broken listener must not stop the engine).
 * @module
 */
import type { AuditData, AuditKind } from '../../shared/audit/audit-chain';
import type { AuditAppender, EngineEvent } from './engine-types';

/** The engine's view of the audit log. */
export type EngineAudit = {
  /** Appends an entry; false when it could not be written. */
  record(kind: AuditKind, data: AuditData, options?: { readonly sync?: boolean }): boolean;
  /** Makes every entry written so far durable; false when that failed. */
  sync(): boolean;
};

/** Wraps the configured audit log (never throws). */
export function engineAudit(log: AuditAppender): EngineAudit {
  return {
    record(kind, data, options) {
      try {
        log.append(kind, data, options);
        return true;
      } catch {
        return false;
      }
    },
    sync() {
      try {
        log.sync?.();
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Reports one engine event to every listener. */
export type Emit = (event: EngineEvent) => void;

/** The engine's listeners. */
export function createEmitter(): {
  readonly emit: Emit;
  on(listener: (event: EngineEvent) => void): () => void;
} {
  const listeners = new Set<(e: EngineEvent) => void>();
  return {
    emit(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          // A broken listener must not stop the engine.
        }
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
