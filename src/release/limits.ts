/** Limits applied while reading a release, so that a hostile archive cannot fill the disk or memory. */
export interface ReadLimits {
  /** largest single file, in bytes */
  maxEntryBytes: number;
  /** largest sum of all files, in bytes */
  maxTotalBytes: number;
  /** most entries (files and directories) */
  maxEntries: number;
  /**
   * most bytes after the tar end-of-archive marker (counted per decompressed chunk of 16 KiB): tar tools
   * pad an archive to their record size (GNU tar: 10 KiB by default). They are read, never parsed.
   */
  maxTrailingBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 100_000,
  maxTrailingBytes: 1024 * 1024,
};
