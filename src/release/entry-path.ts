/**
 * The one path rule for every file of a release, whether it comes from a tarball or a directory:
 * a relative POSIX path of plain segments. Returns why a path is unsafe, or undefined when it is safe.
 */
export function unsafePathReason(entry: string): string | undefined {
  if (entry.includes("\0")) return "it contains a NUL byte";
  if (entry.includes("\\")) return "it contains a backslash; only '/' separates folders";
  if (entry.startsWith("/") || /^[A-Za-z]:/.test(entry)) return "it is an absolute path";
  const segments = entry.replace(/\/$/, "").split("/");
  if (segments.includes("..")) return "it contains '..', which could escape the release directory";
  if (segments.some((s) => s === "" || s === ".")) return "it contains an empty or '.' segment";
  return undefined;
}
