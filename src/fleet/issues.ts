/**
 * Problems of signing, publishing and fetching releases, as data (cf. src/release/issues.ts). An agent
 * reports them as they are (in etcd, later); `formatFleetIssue` is the one place that words them: the
 * file or URL, the field, what was found, what was expected, and the fix. `fleetExitCode` says which
 * are bad input (2) and which a failure of something outside (1).
 */
import { assertNever, ExitCode, UserError } from "../errors.ts";
import { formatReleaseIssue, type ReleaseIssue } from "../release/issues.ts";

export type PinField = "sha256" | "identity" | "name" | "version";

export type FleetIssue =
  /** a JSON file relup reads (a signature, a store record) does not parse or fails its schema */
  | { code: "bad-file"; file: string; field?: string; detail: string; fix: string }
  /** a key file that cannot be used: not PEM, not ed25519, the wrong half, readable by others */
  | { code: "bad-key"; file: string; detail: string; fix: string }
  /** a file relup would write exists and differs; `fix` names the option that replaces it */
  | { code: "exists"; file: string; fix: string }
  /** trusted keys are configured and the release has no signature */
  | { code: "unsigned"; file: string; signature: string; trusted: string[] }
  /** the signature was made with a key that is not among the trusted ones */
  | { code: "untrusted-key"; file: string; key: string; trusted: string[] }
  /** the signature does not verify with the key it names: the signature file was changed */
  | { code: "bad-signature"; file: string; key: string }
  /** a valid signature, of another tarball (the tarball's sha256 differs from the one signed) */
  | { code: "other-tarball"; file: string; tarball: string; signed: string; found: string }
  /** what was fetched or read is not what it was pinned to (by a store record, etcd, the caller) */
  | { code: "pin-mismatch"; file: string; field: PinField; expected: string; found: string; pinnedBy: string }
  /** a store URL relup cannot use, or cannot write to */
  | { code: "bad-store"; url: string; detail: string; fix: string }
  /** a download or copy that failed: network, HTTP status, a missing file in the store */
  | { code: "fetch-failed"; url: string; detail: string; fix: string }
  /** a download larger than allowed */
  | { code: "too-large"; url: string; limit: number }
  /** etcd did not answer (every endpoint down, a wrong URL, a timeout) */
  | { code: "etcd-unavailable"; endpoints: string[]; detail: string }
  /** another live node holds this node id in the group */
  | { code: "node-id-taken"; group: string; id: string; host: string; root: string }
  /** the release itself is refused by the safe reader */
  | { code: "release"; issues: ReleaseIssue[] };

const short = (key: string) => key.slice(0, 16);
const isUrl = (file: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(file);

/** How to sign: a local tarball directly; one fetched from a store, through the build it came from. */
function signFix(file: string): string {
  if (!isUrl(file)) return `sign it with \`relup sign ${file} --key <private key>\` and publish the signature beside it.`;
  const name = decodeURIComponent(new URL(file).pathname.split("/").pop() ?? "<release>.tar.gz");
  return `sign the built tarball (\`relup sign _build/${name} --key <private key>\`), then publish it again (\`relup fleet publish _build/${name} --store <store>\`: the signature is added beside the published tarball).`;
}
const keyList = (keys: readonly string[]) => (keys.length === 0 ? "none" : keys.map(short).join(", "));

export function formatFleetIssue(issue: FleetIssue): string {
  switch (issue.code) {
    case "bad-file":
      return `${issue.file}:${issue.field ? ` ${issue.field}:` : ""} ${issue.detail}. Fix: ${issue.fix}`;
    case "bad-key":
      return `${issue.file}: ${issue.detail}. Fix: ${issue.fix}`;
    case "exists":
      return `${issue.file}: already exists, and relup never replaces it unasked. Fix: ${issue.fix}`;
    case "unsigned":
      return `${issue.file}: is not signed (no signature at ${issue.signature}); only releases signed by a trusted key are accepted (trusted: ${keyList(issue.trusted)}). Fix: ${signFix(issue.file)}`;
    case "untrusted-key":
      return `${issue.file}: key: signed by key ${short(issue.key)}, which is not trusted here (trusted: ${keyList(issue.trusted)}). Fix: sign the release with a trusted key, or add that key's .pub file to the trusted keys if you trust it.`;
    case "bad-signature":
      return `${issue.file}: signature: does not verify with key ${short(issue.key)}: the signature file was changed after signing. Fix: do not use this release; sign it again with \`relup sign\`.`;
    case "other-tarball":
      return `${issue.file}: tarball.sha256: signs the tarball ${issue.signed}, but ${issue.tarball} has sha256 ${issue.found}: the signature belongs to another build, or the tarball was changed. Fix: do not use this tarball; fetch it again, or sign this build with \`relup sign\`.`;
    case "pin-mismatch":
      return `${issue.file}: ${issue.field} is ${issue.found}, expected ${issue.expected} (pinned by ${issue.pinnedBy}): this is not the release that was published. Fix: do not use it; publish the release again with \`relup fleet publish\`, or pin the release you mean.`;
    case "bad-store":
      return `${issue.url}: ${issue.detail}. Fix: ${issue.fix}`;
    case "fetch-failed":
      return `${issue.url}: ${issue.detail}. Fix: ${issue.fix}`;
    case "too-large":
      return `${issue.url}: is larger than ${issue.limit} bytes, the most a release tarball may be. Fix: check the URL names a release tarball; nothing was kept.`;
    case "etcd-unavailable":
      return `etcd at ${issue.endpoints.join(", ")}: ${issue.detail}. Fix: check that etcd runs and that --fleet gives its client URLs (http://host:2379), then try again.`;
    case "node-id-taken":
      return `node id ${JSON.stringify(issue.id)} is already registered in group ${JSON.stringify(issue.group)} by a live node (host ${issue.host}, root ${issue.root}). Fix: give this node another id with --node-id, or stop that node first.`;
    case "release":
      return issue.issues.map(formatReleaseIssue).join("\n");
    default:
      return assertNever(issue);
  }
}

/** 1 for what failed outside relup's input (a download), 2 for bad input (a key, a signature, a release). */
export function fleetExitCode(issue: FleetIssue): ExitCode {
  switch (issue.code) {
    case "fetch-failed":
    case "etcd-unavailable":
      return ExitCode.checkFailed;
    case "bad-file":
    case "bad-key":
    case "exists":
    case "unsigned":
    case "untrusted-key":
    case "bad-signature":
    case "other-tarball":
    case "pin-mismatch":
    case "bad-store":
    case "too-large":
    case "node-id-taken":
    case "release":
      return ExitCode.badInput;
    default:
      return assertNever(issue);
  }
}

/** Expected failures of the fleet's release handling: every issue found, worded by formatFleetIssue. */
export class FleetError extends UserError {
  override readonly name = "FleetError";
  constructor(readonly issues: readonly FleetIssue[]) {
    super(issues.map(formatFleetIssue).join("\n"), issues.some((i) => fleetExitCode(i) === ExitCode.badInput) ? ExitCode.badInput : ExitCode.checkFailed);
  }
}
