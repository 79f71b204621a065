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
  /**
   * most bytes unpacked per compressed byte read, once more than `expansionFloorBytes` are unpacked:
   * checked as the bytes flow, so a gzip bomb is refused after at most about this many times its size
   */
  maxExpansionRatio: number;
  /** unpacked bytes allowed whatever the ratio, so that small, very compressible releases are never refused */
  expansionFloorBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 100_000,
  maxTrailingBytes: 1024 * 1024,
  // Source, JSON and node_modules compress 3 to 10 times with gzip; even a release of logs or CSV stays
  // under 20. Deflate's own ceiling is about 1032, reached only by long runs of one byte: 100 leaves a real
  // release a wide margin while a bomb is stopped at a tenth of what it would write.
  maxExpansionRatio: 100,
  // Below 64 MiB the ratio is not checked: a small release of mostly identical bytes (a sparse data file,
  // a zero-filled fixture) is harmless at that size, and its first compressed chunk says little of the rest.
  expansionFloorBytes: 64 * 1024 * 1024,
};
