/**
 * Parsing and encoding of wire frames. Parsers never throw: every rejected frame becomes a
 * typed {@link ProtocolError}. Checks run cheapest first (type, size, JSON, version, type name,
 * schema) so an oversize or garbage frame costs little.
 * @module
 */
import type { z } from 'zod';
import { err, ok, type Result } from '../result';
import { CLIENT_MESSAGE_SCHEMAS, type ClientMessage } from './client-messages';
import { MAX_REPORTED_ISSUES, protocolError, type ProtocolError } from './errors';
import { LIMITS, PROTOCOL_VERSION } from './limits';
import { SERVER_MESSAGE_SCHEMAS, type ServerMessage } from './server-messages';

/** UTF-8 length of a string (lone surrogates count 3 bytes, as encoders replace them). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

type SchemaTable = Readonly<Record<string, z.ZodType>>;

function describeType(type: unknown): string {
  return typeof type === 'string' && /^[a-z-]{1,32}$/.test(type) ? `"${type}"` : 'given';
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, MAX_REPORTED_ISSUES).map((i) => {
    const path = i.path.length > 0 ? i.path.map(String).join('.') : '(frame)';
    return `${path}: ${i.message}`;
  });
}

function parseWith<T>(
  text: unknown,
  schemas: SchemaTable,
  direction: string,
): Result<T, ProtocolError> {
  if (typeof text !== 'string') return err(protocolError('not-text', 'frame is not text'));
  // Each UTF-16 unit is at least one UTF-8 byte, so the cheap check comes first.
  if (text.length > LIMITS.frameBytes || utf8Length(text) > LIMITS.frameBytes) {
    return err(protocolError('frame-too-large', `frame exceeds ${LIMITS.frameBytes} bytes`));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err(protocolError('bad-json', 'frame is not valid JSON'));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return err(protocolError('not-object', 'frame is not a JSON object'));
  }
  const frame = value as Record<string, unknown>;
  if (!Object.hasOwn(frame, 'v')) return err(protocolError('invalid-message', 'frame has no "v"'));
  if (frame.v !== PROTOCOL_VERSION) {
    return err(
      protocolError(
        'unsupported-version',
        `only protocol version ${PROTOCOL_VERSION} is supported`,
      ),
    );
  }
  return validate<T>(frame, schemas, direction);
}

/** Looks up the schema of the message's `type` and validates the message against it. */
function validate<T>(
  message: unknown,
  schemas: SchemaTable,
  direction: string,
): Result<T, ProtocolError> {
  const type = (message as { type?: unknown } | null)?.type;
  const schema =
    typeof type === 'string' && Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema === undefined) {
    return err(
      protocolError('unknown-type', `${describeType(type)} is not a ${direction} message type`),
    );
  }
  const parsed = schema.safeParse(message);
  if (!parsed.success) {
    return err(
      protocolError(
        'invalid-message',
        `invalid "${String(type)}" message`,
        formatIssues(parsed.error),
      ),
    );
  }
  return ok(parsed.data as T);
}

/** Parses and validates a client → server frame (the server's edge). */
export function parseClientMessage(text: unknown): Result<ClientMessage, ProtocolError> {
  return parseWith<ClientMessage>(text, CLIENT_MESSAGE_SCHEMAS, 'client');
}

/** Parses and validates a server → client frame (the client's edge). */
export function parseServerMessage(text: unknown): Result<ServerMessage, ProtocolError> {
  return parseWith<ServerMessage>(text, SERVER_MESSAGE_SCHEMAS, 'server');
}

function encodeWith(
  message: unknown,
  schemas: SchemaTable,
  direction: string,
): Result<string, ProtocolError> {
  const valid = validate<unknown>(message, schemas, direction);
  if (!valid.ok) return valid;
  const text = JSON.stringify(valid.value);
  if (utf8Length(text) > LIMITS.frameBytes) {
    return err(protocolError('frame-too-large', `frame exceeds ${LIMITS.frameBytes} bytes`));
  }
  return ok(text);
}

/**
 * Validates and serializes a client → server message. Sending side validation catches our
 * own bugs before the peer does; the result parses with {@link parseClientMessage}.
 */
export function encodeClientMessage(message: ClientMessage): Result<string, ProtocolError> {
  return encodeWith(message, CLIENT_MESSAGE_SCHEMAS, 'client');
}

/** Validates and serializes a server → client message. */
export function encodeServerMessage(message: ServerMessage): Result<string, ProtocolError> {
  return encodeWith(message, SERVER_MESSAGE_SCHEMAS, 'server');
}
