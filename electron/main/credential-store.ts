/**
 * Keeps the per-server session credential (the secret the server issues at enrollment,
 * replacing the invite token) encrypted with Electron's safeStorage (OS keychain / DPAPI /
 * libsecret). Refuses to store when only the plain-text backend is available: a credential
 * readable by any local process must not be written silently.
 * @module
 */
import { toHex } from '../../shared/codec/bytes';

/** The slice of Electron's safeStorage the store uses. */
export type SafeStoragePort = {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Uint8Array;
  decryptString(encrypted: Uint8Array): string;
  /** Linux only: which secret store backs the encryption. */
  getSelectedStorageBackend?(): string;
};

/** File access the store needs. */
export type CredentialFiles = {
  read(path: string): Promise<Uint8Array | undefined>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
};

/** Why a credential could not be stored or read. */
export type CredentialError = {
  readonly code: 'no-encryption' | 'unreadable';
  readonly message: string;
};

/** The credential store. */
export type CredentialStore = {
  /** Whether credentials can be stored securely on this machine. */
  available(): boolean;
  save(serverId: string, credential: string): Promise<CredentialError | undefined>;
  load(serverId: string): Promise<string | CredentialError | undefined>;
  remove(serverId: string): Promise<void>;
};

/** Creates the store writing one file per server into `dir` (joined with '/'). */
export function createCredentialStore(
  safeStorage: SafeStoragePort,
  files: CredentialFiles,
  dir: string,
  platform: string,
): CredentialStore {
  const available = () => {
    if (!safeStorage.isEncryptionAvailable()) return false;
    // On Linux without a keyring Chromium falls back to a hard-coded key ("basic_text").
    if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      return false;
    }
    return true;
  };
  const pathOf = (serverId: string) =>
    `${dir}/credential-${toHex(new TextEncoder().encode(serverId)).toLowerCase()}.bin`;
  const noEncryption: CredentialError = {
    code: 'no-encryption',
    message: 'no OS secret store is available to protect the server credential',
  };
  return {
    available,
    async save(serverId, credential) {
      if (!available()) return noEncryption;
      await files.write(pathOf(serverId), safeStorage.encryptString(credential));
      return undefined;
    },
    async load(serverId) {
      const bytes = await files.read(pathOf(serverId));
      if (bytes === undefined) return undefined;
      if (!available()) return noEncryption;
      try {
        return safeStorage.decryptString(bytes);
      } catch {
        return { code: 'unreadable', message: 'the stored credential cannot be decrypted' };
      }
    },
    remove: (serverId) => files.remove(pathOf(serverId)),
  };
}
