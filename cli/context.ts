/**
 * What the CLI needs from its surroundings, injected so tests run it in-process and the
 * composition root (bin/entries/custodian.mjs) can add the emulator without cli/ importing it.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { CardTransport } from '../core/card/transport';
import { openPcsc, type Pcsc } from '../core/pcsc/pcsc-adapter';

/** Output streams. */
export type CliIo = {
  /** Writes to stdout (text includes its newline). */
  out(text: string): void;
  /** Writes to stderr (text includes its newline). */
  err(text: string): void;
};

/** Services the commands use. */
export type CliDeps = {
  /** Opens PC/SC (default: the pcsclite adapter). */
  openPcsc(): Promise<Pcsc>;
  /**
   * Opens an emulator state file as a card (`--emulator FILE`); absent when the launcher does
   * not provide the emulator (then `--emulator` is a usage error).
   */
  openEmulator?: (file: string) => Promise<CardTransport>;
  /** Reads a file (trust anchors). */
  readFile(path: string): Promise<Uint8Array>;
  /** The current time (chain validity dates). */
  now(): Date;
  /** How long to let pcscd report card presence after listing readers (ms). */
  readonly settleMs?: number;
};

/** The process's stdout/stderr. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Production services (PC/SC, file system, clock); no emulator. */
export function defaultDeps(): CliDeps {
  return {
    openPcsc: () => openPcsc(),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    now: () => new Date(),
  };
}
