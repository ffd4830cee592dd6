/**
 * The desktop app's IPC contract: channels, schemas, view model, errors and the bridge builder.
 * @module
 */
export * from './channels';
export * from './contract';
export * from './errors';
export * from './model';
export * from './trust-model';
export * from './ceremony-rules';
export { createCustodianApi, type BridgePort } from './bridge';
