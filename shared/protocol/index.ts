/**
 * The custodian wire protocol (docs/protocol.md): limits, errors, message schemas and the
 * frame codec.
 * @module
 */
export * from './limits';
export * from './errors';
export * from './fields';
export * from './client-messages';
export * from './server-messages';
export * from './codec';
