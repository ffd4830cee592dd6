/**
 * Main-side IPC wrappers: the only code that registers `ipcMain` handlers or sends to a web
 * contents. Each invoke is checked in this order: trusted sender (else dropped), request valid
 * against the contract (else `invalid-request`), handler, response valid (else `internal`).
 * Rejected payloads are never logged in full (a PIN may be in them).
 * @module
 */
import type { z } from 'zod';
import {
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  type EventMethod,
  type InvokeMethod,
} from '../../../shared/ipc/channels';
import {
  EVENT_CONTRACT,
  INVOKE_CONTRACT,
  type IpcResult,
  type ParsedRequestOf,
  type PayloadOf,
  type ResponseOf,
} from '../../../shared/ipc/contract';
import { ipcError } from '../../../shared/ipc/errors';
import type { SenderInfo } from './sender-trust';
import { messageOf } from '../../../shared/error-message';

/** The slice of Electron's `ipcMain` the wrappers use. */
export type IpcMainPort = {
  handle(channel: string, listener: (event: SenderInfo, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
};

/** A handler for one invoke method: gets the validated request. */
export type InvokeHandler<M extends InvokeMethod> = (
  request: ParsedRequestOf<M>,
) => Promise<IpcResult<ResponseOf<M>>>;

/** One handler per invoke method of the contract. */
export type InvokeHandlers = { readonly [M in InvokeMethod]: InvokeHandler<M> };

/** Where the wrappers report dropped or failed calls (never with the payload). */
export type IpcLog = (line: string) => void;

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`)
    .join('; ');
}

/**
 * Registers every contract method on `ipc`. Returns a function that removes them all.
 */
export function registerInvokeHandlers(
  ipc: IpcMainPort,
  handlers: InvokeHandlers,
  isTrusted: (event: SenderInfo) => boolean,
  log: IpcLog = () => {},
): () => void {
  const methods = Object.keys(INVOKE_CHANNELS) as InvokeMethod[];
  for (const method of methods) {
    const channel = INVOKE_CHANNELS[method];
    const { request, response } = INVOKE_CONTRACT[method];
    const handler = handlers[method] as (req: unknown) => Promise<IpcResult<unknown>>;
    ipc.handle(channel, async (event, ...args): Promise<IpcResult<unknown>> => {
      if (!isTrusted(event)) {
        log(`ipc: dropped ${method} from untrusted sender ${event.senderFrame?.url ?? '(none)'}`);
        return { ok: false, error: ipcError('forbidden', `${method} from an untrusted sender`) };
      }
      if (args.length > 1) {
        log(`ipc: dropped ${method}: ${args.length} arguments`);
        return { ok: false, error: ipcError('invalid-request', `${method}: too many arguments`) };
      }
      const parsed = request.safeParse(args[0]);
      if (!parsed.success) {
        const why = issuesText(parsed.error);
        log(`ipc: invalid ${method} request (${why})`);
        return { ok: false, error: ipcError('invalid-request', `${method}: ${why}`) };
      }
      let result: IpcResult<unknown>;
      try {
        result = await handler(parsed.data);
      } catch (cause) {
        log(`ipc: ${method} failed: ${messageOf(cause)}`);
        return { ok: false, error: ipcError('internal', `${method} failed`) };
      }
      if (!result.ok) return result;
      const checked = response.safeParse(result.value);
      if (!checked.success) {
        log(`ipc: ${method} produced an invalid response (${issuesText(checked.error)})`);
        return { ok: false, error: ipcError('internal', `${method}: invalid response`) };
      }
      return { ok: true, value: checked.data };
    });
  }
  return () => {
    for (const method of methods) ipc.removeHandler(INVOKE_CHANNELS[method]);
  };
}

/** The slice of a web contents the event sender uses. */
export type EventTarget = {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
};

/** Sends contract events to the renderer. */
export type EventSender = <E extends EventMethod>(method: E, payload: PayloadOf<E>) => boolean;

/**
 * Creates the one function main uses to push events. Payloads are validated against the
 * contract first (a bug in main must not ship malformed data to the renderer); returns whether
 * the event was valid.
 */
export function createEventSender(
  targets: () => readonly EventTarget[],
  log: IpcLog = () => {},
): EventSender {
  return (method, payload) => {
    const checked = EVENT_CONTRACT[method].safeParse(payload);
    if (!checked.success) {
      log(`ipc: not sending invalid ${method} (${issuesText(checked.error)})`);
      return false;
    }
    for (const target of targets()) {
      if (!target.isDestroyed()) target.send(EVENT_CHANNELS[method], checked.data);
    }
    return true;
  };
}
