/**
 * An AuditFs over node:fs with faults injected by the test: short writes, and an error (e.g.
 * ENOSPC) from the n-th write, fsync or truncate of the log file.
 */
import { nodeAuditFs, type AuditFs } from '../../../../core/audit/audit-fs';

export type Faults = {
  /** Largest number of bytes one write call writes. */
  maxWrite?: number;
  /** Fail writes to the log after this many more bytes have been written (ENOSPC). */
  spaceLeft?: number;
  /** Fail the next fsync of the log with this code. */
  fsyncError?: string;
  /** Fail truncate with this code. */
  truncateError?: string;
  /** A write that returns 0. */
  zeroWrite?: boolean;
};

const fsError = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/** `faults` is read on every call, so a test can change it between appends. */
export function faultyFs(logPath: string, faults: Faults): AuditFs {
  const logFds = new Set<number>();
  return {
    ...nodeAuditFs,
    openAppend(path) {
      const fd = nodeAuditFs.openAppend(path);
      if (path === logPath) logFds.add(fd);
      return fd;
    },
    close(fd) {
      logFds.delete(fd);
      nodeAuditFs.close(fd);
    },
    write(fd, data, position) {
      if (!logFds.has(fd)) return nodeAuditFs.write(fd, data, position);
      if (faults.zeroWrite) return 0;
      let n = Math.min(data.length, faults.maxWrite ?? data.length);
      if (faults.spaceLeft !== undefined) {
        if (faults.spaceLeft === 0) throw fsError('ENOSPC');
        n = Math.min(n, faults.spaceLeft);
        faults.spaceLeft -= n;
      }
      return nodeAuditFs.write(fd, data.subarray(0, n), position);
    },
    fsync(fd) {
      if (logFds.has(fd) && faults.fsyncError !== undefined) {
        const code = faults.fsyncError;
        delete faults.fsyncError;
        throw fsError(code);
      }
      nodeAuditFs.fsync(fd);
    },
    truncate(fd, length) {
      if (logFds.has(fd) && faults.truncateError !== undefined) throw fsError(faults.truncateError);
      nodeAuditFs.truncate(fd, length);
    },
  };
}
