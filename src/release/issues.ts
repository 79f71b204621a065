/**
 * Problems found while building or reading a release, as data (cf. zod's issues and OTP's format_error/1).
 * Each issue names the file it was found in and, where there is one, the field. `formatReleaseIssue` is
 * the one place that turns them into text: what was found, what was expected, and what to do.
 */
import { assertNever, ExitCode, UserError } from "../errors.ts";

export type ReleaseIssue =
  | { code: "missing-file"; file: string; why: string; fix?: string }
  | { code: "invalid-json"; file: string; detail: string; fix?: string }
  | { code: "invalid-field"; file: string; field: string; detail: string; fix?: string }
  | { code: "unsafe-path"; file: string; entry: string; why: string }
  | { code: "link-entry"; file: string; entry: string; target: string }
  | { code: "special-entry"; file: string; entry: string; kind: string }
  | { code: "duplicate-entry"; file: string; entry: string }
  | { code: "outside-release-dir"; file: string; entry: string; expected: string }
  | { code: "oversized"; file: string; entry: string; size: number; limit: number; what: "entry" | "release" }
  | { code: "too-many-entries"; file: string; limit: number }
  | { code: "corrupt-archive"; file: string; detail: string }
  | { code: "trailing-data"; file: string; limit: number }
  | { code: "after-gzip"; file: string; bytes: number; gzipBytes: number }
  | { code: "expansion"; file: string; unpacked: number; compressed: number; ratio: number; floor: number }
  | { code: "disk-full"; file: string; at: string; errno: string }
  | { code: "unwritable"; file: string; at: string; errno: string; detail: string }
  | { code: "checksum-mismatch"; file: string; entry: string; expected: string; found: string }
  | { code: "unlisted-file"; file: string; entry: string }
  | { code: "listed-file-missing"; file: string; entry: string }
  | { code: "mismatch"; file: string; field: string; expected: string; found: string }
  | { code: "unknown-reference"; file: string; field: string; ref: string; kind: "module" | "application" }
  | { code: "destination-exists"; file: string }
  | { code: "build-failed"; file: string; field?: string; detail: string; fix: string }
  /** an error of the project's type-check; `file` is `path:line:column` */
  | { code: "type-error"; file: string; detail: string };

/** The fix for a file that relup writes: it was changed or broken after the build. */
const BUILT_FILE_FIX = "rebuild the release with `relup build`; built files are not edited by hand (docs/reference.md describes them).";

/** One line per issue: `file: field: what was found; what was expected. Fix: what to do.` */
export function formatReleaseIssue(issue: ReleaseIssue): string {
  const at = (field?: string) => (field ? `${issue.file}: ${field}:` : `${issue.file}:`);
  switch (issue.code) {
    case "missing-file":
      return `${at()} not found (${issue.why}). Fix: ${issue.fix ?? "check the path, or rebuild the release with `relup build`."}`;
    case "invalid-json":
      return `${at()} is not valid JSON (${issue.detail}). Fix: ${issue.fix ?? BUILT_FILE_FIX}`;
    case "invalid-field":
      return `${at(issue.field)} ${issue.detail}. Fix: ${issue.fix ?? BUILT_FILE_FIX}`;
    case "unsafe-path":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} unsafe path (${issue.why}). Fix: refuse this archive; rebuild it with \`relup build\`.`;
    case "link-entry":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} is a link to ${JSON.stringify(issue.target)}; a release holds only regular files and directories. Fix: rebuild it with \`relup build\`, which copies files instead of linking.`;
    case "special-entry":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} is a ${issue.kind}; a release holds only regular files and directories. Fix: refuse this archive; rebuild it with \`relup build\`.`;
    case "duplicate-entry":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} appears more than once. Fix: refuse this archive; rebuild it with \`relup build\`.`;
    case "outside-release-dir":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} is outside the release directory; expected every entry under ${JSON.stringify(issue.expected)}. Fix: rebuild it with \`relup build\`.`;
    case "oversized":
      return issue.what === "entry"
        ? `${at(`entry ${JSON.stringify(issue.entry)}`)} is ${issue.size} bytes, over the limit of ${issue.limit} bytes per file. Fix: refuse this archive, or raise the limit (maxEntryBytes) if the file is expected.`
        : `${at()} unpacks to more than ${issue.limit} bytes (reached at ${JSON.stringify(issue.entry)}). Fix: refuse this archive, or raise the limit (maxTotalBytes) if it is expected.`;
    case "too-many-entries":
      return `${at()} has more than ${issue.limit} entries. Fix: refuse this archive, or raise the limit (maxEntries) if it is expected.`;
    case "corrupt-archive":
      return `${at()} is not a complete .tar.gz release (${issue.detail}). Fix: download or copy the tarball again, or rebuild it with \`relup build\`.`;
    case "trailing-data":
      return `${at()} has more than ${issue.limit} bytes after the end of the tar archive; a release tarball ends with its end-of-archive marker and at most the padding tar tools add (GNU tar: 10 KiB). Fix: rebuild it with \`relup build\` and do not append to a built tarball, or raise the limit (maxTrailingBytes) if the tool that packed it pads more.`;
    case "after-gzip":
      return `${at()} has ${issue.bytes} bytes after the end of its gzip stream (the stream is the first ${issue.gzipBytes} bytes); a release tarball is one gzip stream and nothing else, so bytes were appended after it was built. Fix: rebuild it with \`relup build\`, or download it again; do not append to a built tarball.`;
    case "expansion":
      return `${at()} unpacks to more than ${issue.ratio} times its compressed size (${issue.unpacked} bytes from the first ${issue.compressed} compressed bytes; past ${issue.floor} bytes, a release may unpack to at most ${issue.ratio} times what was read): a gzip bomb, or a release of mostly identical bytes. Nothing was kept. Fix: refuse this archive, or raise the limits (maxExpansionRatio, expansionFloorBytes) if it is expected.`;
    case "disk-full":
      return `${at()} could not be unpacked: no space left on the device at ${issue.at} (${issue.errno}); the archive itself was not found faulty. Nothing was kept: the partly unpacked files were removed. Fix: free space (or raise the quota) on that file system, then run the command again.`;
    case "unwritable":
      return `${at()} could not be unpacked: cannot write ${issue.at} (${issue.errno}: ${issue.detail}). Nothing was kept: the partly unpacked files were removed. Fix: check that the directory is writable by this user and is not read-only, or unpack elsewhere; if the archive holds a file and a directory at the same path, rebuild it with \`relup build\`.`;
    case "checksum-mismatch":
      return `${at(`files[${JSON.stringify(issue.entry)}]`)} sha256 is ${issue.found}, release.json expects ${issue.expected}: the file was changed after the build. Fix: do not use this release; rebuild it with \`relup build\`.`;
    case "unlisted-file":
      return `${at(`entry ${JSON.stringify(issue.entry)}`)} is not listed in release.json \`files\`: it was added after the build. Fix: remove the file, or rebuild the release with \`relup build\`.`;
    case "listed-file-missing":
      return `${at(`files[${JSON.stringify(issue.entry)}]`)} is listed in release.json but missing from the release. Fix: copy the whole release again, or rebuild it with \`relup build\`.`;
    case "mismatch":
      return `${at(issue.field)} is ${JSON.stringify(issue.found)}, expected ${JSON.stringify(issue.expected)}. Fix: rebuild the release with \`relup build\`; do not rename or edit built releases.`;
    case "unknown-reference":
      return `${at(issue.field)} names ${issue.kind} ${JSON.stringify(issue.ref)}, which this release does not contain. Fix: add the ${issue.kind}, or remove the reference.`;
    case "destination-exists":
      return `${at()} already exists; a release is never unpacked over another. Fix: remove it first, or unpack elsewhere.`;
    case "build-failed":
      return `${at(issue.field)} ${issue.detail}. Fix: ${issue.fix}`;
    case "type-error":
      return `${at()} ${issue.detail}${issue.detail.endsWith(".") ? "" : "."} Fix: correct it, or build without the type-check: \`relup build --no-typecheck\`.`;
    default:
      return assertNever(issue);
  }
}

/** Bad input found while reading or building a release: exit 2, with every issue found. */
export class ReleaseError extends UserError {
  override readonly name = "ReleaseError";
  constructor(readonly issues: readonly ReleaseIssue[]) {
    super(issues.map(formatReleaseIssue).join("\n"), ExitCode.badInput);
  }
}
