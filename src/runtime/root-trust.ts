/**
 * Whether a release root may be trusted by the user running relup. The launcher boots whatever code is
 * under `releases/`, answers `relup status` from `run/`, and writes its pid and logs under `run/` and
 * `log/`, often as root: another user who can write the root (or these directories), or who owns them,
 * could put their own code there and have it booted, forge the control socket, or plant a symbolic link
 * that makes the launcher write through it. So, as OpenSSH does for its key files, the root and its
 * `run/`, `log/` and `releases/` must each be a real directory (not a symbolic link), owned by the user
 * running relup, and writable by no one else (no group or other write bit). A directory that does not
 * exist yet is fine: relup creates it.
 *
 * Also checked up front: the control socket's path fits a Unix socket address (107 bytes on Linux), so
 * that a long root is refused with a message rather than bound to a truncated path.
 *
 * Problems are data (RootTrustIssue) with one formatter; RootTrustError carries them (exit 2).
 */
import { constants, lstatSync, mkdirSync, openSync, rmdirSync, type Stats } from "node:fs";
import path from "node:path";
import { ExitCode, UserError, assertNever } from "../errors.ts";
import { CONTROL_SOCKET } from "./control-protocol.ts";

/** The longest path a Unix socket address holds on Linux (sun_path is 108 bytes with its final NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The subdirectories of a root that are checked with it. */
export const TRUSTED_SUBDIRS = ["run", "log", "releases"] as const;
/** The files relup writes in them, which must not be symbolic links (they are also opened with O_NOFOLLOW). */
export const WRITTEN_FILES = ["run/launcher.pid", "log/launcher.jsonl", "log/node.jsonl", "log/launcher.out"] as const;

export type RootTrustIssue =
  | { kind: "symlink"; path: string }
  | { kind: "not-a-directory"; path: string }
  | { kind: "foreign-owner"; path: string; uid: number; expectedUid: number }
  | { kind: "writable-by-others"; path: string; mode: number }
  | { kind: "socket-path-too-long"; path: string; socketPath: string; bytes: number };

/** Open flags that refuse to follow a symbolic link at the last component of a path. */
export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** Append to a log file, creating it, never through a symbolic link. */
export const APPEND_NOFOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | O_NOFOLLOW;
/** Replace a small file's contents (a pid file), creating it, never through a symbolic link. */
export const WRITE_NOFOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | O_NOFOLLOW;

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function checkDirectory(dir: string, uid: number | undefined): RootTrustIssue[] {
  const stats = lstatOrUndefined(dir);
  if (!stats) return [];
  if (stats.isSymbolicLink()) return [{ kind: "symlink", path: dir }];
  if (!stats.isDirectory()) return [{ kind: "not-a-directory", path: dir }];
  const issues: RootTrustIssue[] = [];
  if (uid !== undefined && stats.uid !== uid) issues.push({ kind: "foreign-owner", path: dir, uid: stats.uid, expectedUid: uid });
  if ((stats.mode & 0o022) !== 0) issues.push({ kind: "writable-by-others", path: dir, mode: stats.mode & 0o7777 });
  return issues;
}

/** The problems with `root` (resolved to an absolute path), [] when it may be trusted. */
export function checkRootTrust(root: string): RootTrustIssue[] {
  const absolute = path.resolve(root);
  // process.getuid is missing on Windows, where ownership is not checked (relup targets POSIX).
  const uid = process.getuid?.();
  const issues: RootTrustIssue[] = [];
  const socketPath = path.join(absolute, "run", CONTROL_SOCKET);
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) issues.push({ kind: "socket-path-too-long", path: absolute, socketPath, bytes });
  const rootIssues = checkDirectory(absolute, uid);
  issues.push(...rootIssues);
  // Under a root that is a link or not a directory, its subdirectories say nothing more.
  if (rootIssues.some((issue) => issue.kind === "symlink" || issue.kind === "not-a-directory")) return issues;
  for (const sub of TRUSTED_SUBDIRS) issues.push(...checkDirectory(path.join(absolute, sub), uid));
  if (issues.length > 0) return issues;
  for (const file of WRITTEN_FILES) {
    const written = path.join(absolute, file);
    if (lstatOrUndefined(written)?.isSymbolicLink()) issues.push({ kind: "symlink", path: written });
  }
  return issues;
}

/** One line per issue: the path, what was found, and the fix. */
export function formatRootTrustIssue(issue: RootTrustIssue): string {
  switch (issue.kind) {
    case "symlink":
      return `${issue.path}: is a symbolic link; relup does not follow links inside a release root (another user could point it anywhere). Fix: remove the link (\`rm ${issue.path}\`) and let relup create what it needs; for the root itself, give the real directory as --root.`;
    case "not-a-directory":
      return `${issue.path}: is not a directory. Fix: move it away; relup creates the directory.`;
    case "foreign-owner":
      return `${issue.path}: is owned by uid ${issue.uid}, not by the user running relup (uid ${issue.expectedUid}); that user could replace the code relup boots. Fix: \`chown ${issue.expectedUid} ${issue.path}\`, or run relup as its owner.`;
    case "writable-by-others":
      return `${issue.path}: has mode ${issue.mode.toString(8).padStart(4, "0")}, writable by ${issue.mode & 0o020 ? (issue.mode & 0o002 ? "group and others" : "its group") : "others"}; they could replace the code relup boots. Fix: \`chmod go-w ${issue.path}\`.`;
    case "socket-path-too-long":
      return `${issue.path}: the control socket path ${issue.socketPath} is ${issue.bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES} a Unix socket address holds. Fix: use a shorter --root (a directory nearer /).`;
    default:
      return assertNever(issue);
  }
}

export function rootTrustMessage(issues: readonly RootTrustIssue[]): string {
  return `refusing the release root:\n${issues.map((issue) => `  ${formatRootTrustIssue(issue)}`).join("\n")}`;
}

export class RootTrustError extends UserError {
  override readonly name = "RootTrustError";
  constructor(readonly issues: RootTrustIssue[]) {
    super(rootTrustMessage(issues), ExitCode.badInput);
  }
}

/** Throw RootTrustError (exit 2) unless `root` may be trusted. */
export function assertRootTrusted(root: string): void {
  const issues = checkRootTrust(root);
  if (issues.length > 0) throw new RootTrustError(issues);
}

/** Open `file` with `flags` (which hold O_NOFOLLOW); a symbolic link there is a RootTrustError, not followed. */
export function openNoFollow(file: string, flags: number, mode = 0o644): number {
  try {
    return openSync(file, flags, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new RootTrustError([{ kind: "symlink", path: file }]);
    throw error;
  }
}

/**
 * Create the root and its `log/` and `releases/` (0755) and `run/` (0700) where they are missing, so that a
 * root relup makes passes its own check under any umask (a umask of 0002 would leave them group-writable).
 * Directories that exist are left as they are. Returns the ones it made, parents first.
 */
export function createRootDirectories(root: string): string[] {
  const absolute = path.resolve(root);
  const created: string[] = [];
  const first = mkdirSync(absolute, { recursive: true, mode: 0o755 });
  // mkdirSync names the first directory it made: it and every one below it, down to the root, are new.
  if (first !== undefined) for (let dir = absolute; dir.length >= first.length; dir = path.dirname(dir)) created.unshift(dir);
  for (const sub of TRUSTED_SUBDIRS) if (mkdirSync(path.join(absolute, sub), { recursive: true, mode: sub === "run" ? 0o700 : 0o755 }) !== undefined) created.push(path.join(absolute, sub));
  return created;
}

/** Remove the directories createRootDirectories made, deepest first, each only if it is still empty. */
export function removeCreatedDirectories(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (something was written there since) or gone: left as it is
    }
  }
}
