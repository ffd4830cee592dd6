/**
 * The desktop app's IPC contract: channels, schemas, view model, errors and the bridge builder.
 * @module
 */
export * from './channels';
export * from './contract';
export * from './errors';
export * from './model';
export { createCustodianApi, type BridgePort } from './bridge';
