/**
 * The node side of the release store: fetch a release tarball from a URL (file://, http(s)://) and
 * accept it only if it is the release it was pinned to. In order, each step before the next:
 *
 * 1. download into a private temporary directory inside `dest`, hashing as the bytes arrive (at most
 *    `maxBytes`);
 * 2. the tarball's sha256 must be the pinned one (`pin-mismatch`, field sha256): a changed or swapped
 *    file in the store is refused before anything else is read from it;
 * 3. with trusted keys, the detached signature (beside the tarball, or `signatureUrl`) must verify with
 *    one of them and sign these bytes (verify-signature.ts), and the release it names must be the
 *    pinned one: an unsigned or wrongly signed release is refused here, before anything is unpacked;
 * 4. the safe release reader (src/release/read-release.ts) checks the archive and every file in it, in
 *    a temporary directory that is removed after; the release's name, version and identity must be the
 *    pinned ones;
 * 5. the tarball (and its signature) are renamed into `dest` as `<name>-<version>.tar.gz`, ready for
 *    `relup unpack`/`apply` on the node.
 *
 * Any failure throws a FleetError with every issue found and leaves nothing in `dest`.
 */
import { mkdir, mkdtemp, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { removeOnInterrupt } from "../interrupt.ts";
import { removeQuietly } from "../release/fs-utils.ts";
import { ReleaseError } from "../release/issues.ts";
import { DEFAULT_LIMITS } from "../release/limits.ts";
import { readRelease } from "../release/read-release.ts";
import { downloadText, downloadTo } from "./download.ts";
import { FleetError, type FleetIssue, type PinField } from "./issues.ts";
import type { ReleasePin } from "./published-record.ts";
import { signatureFileOf, type SignatureFile } from "./signature-file.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import { parseStoreUrl, signatureUrlOf } from "./store-url.ts";
import { verifySignature } from "./verify-signature.ts";

export interface FetchOptions {
  /** the tarball's URL (store-url.ts releaseUrls gives it for a store) */
  url: string;
  pin: ReleasePin;
  /** the directory the verified tarball is placed in (made if missing) */
  dest: string;
  /** when given and not empty, only a release signed by one of these keys is accepted */
  trusted?: TrustedKeys;
  /** where the signature is, when not beside the tarball (a presigned link's query signs one file only) */
  signatureUrl?: string;
  timeoutMs?: number;
  /** the largest tarball accepted (default: the release reader's limit on a release's unpacked size) */
  maxBytes?: number;
}

export interface FetchedRelease {
  /** the verified tarball in `dest` */
  tarball: string;
  release: { name: string; version: string; identity: string };
  sha256: string;
  bytes: number;
  /** the signature, when trusted keys were given */
  signature?: SignatureFile;
}

export async function fetchRelease(options: FetchOptions): Promise<FetchedRelease> {
  const url = parseStoreUrl(options.url, "the release URL");
  const { pin } = options;
  await mkdir(options.dest, { recursive: true, mode: 0o700 });
  const temp = await mkdtemp(path.join(options.dest, ".relup-fetch-"));
  const forget = removeOnInterrupt(temp);
  try {
    const download = path.join(temp, `${pin.name}-${pin.version}.tar.gz`);
    const digest = await downloadTo(url, download, { maxBytes: options.maxBytes ?? DEFAULT_LIMITS.maxTotalBytes, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    if (digest.sha256 !== pin.sha256) throw mismatch(url.href, pin, "sha256", digest.sha256);

    let signature: { file: SignatureFile; text: string } | undefined;
    if (options.trusted !== undefined && options.trusted.size > 0) {
      const signatureUrl = options.signatureUrl !== undefined ? parseStoreUrl(options.signatureUrl, "the signature URL") : signatureUrlOf(url);
      const text = await downloadText(signatureUrl, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
      const checked = verifySignature({ tarball: url.href, digest, signatureFile: signatureUrl.href, text, trusted: options.trusted });
      if (!checked.ok) throw new FleetError(checked.issues);
      const signed = checked.signature.release;
      const issues = pinIssues(signatureUrl.href, pin, signed);
      if (issues.length > 0) throw new FleetError(issues);
      signature = { file: checked.signature, text: text! };
    }

    // The safe reader, as for any release: the archive, every file, release.json's identity.
    const loaded = await readRelease(download, { tempDir: temp }).catch((error: unknown) => {
      if (error instanceof ReleaseError) throw new FleetError([{ code: "release", issues: [...error.issues] }]);
      throw error;
    });
    const release = { name: loaded.release.name, version: loaded.release.version, identity: loaded.identity };
    await loaded.close();
    const issues = pinIssues(url.href, pin, release);
    if (issues.length > 0) throw new FleetError(issues);

    const tarball = path.join(options.dest, `${release.name}-${release.version}.tar.gz`);
    if (signature) await writeFile(signatureFileOf(download), signature.text, { mode: 0o644 });
    await rename(download, tarball);
    if (signature) await rename(signatureFileOf(download), signatureFileOf(tarball));
    return { tarball, release, ...digest, ...(signature ? { signature: signature.file } : {}) };
  } finally {
    await removeQuietly(temp);
    forget();
  }
}

function pinIssues(file: string, pin: ReleasePin, found: { name: string; version: string; identity: string }): FleetIssue[] {
  const fields = ["name", "version", "identity"] as const;
  return fields.filter((field) => found[field] !== pin[field]).map((field): FleetIssue => ({ code: "pin-mismatch", file, field, expected: pin[field], found: found[field], pinnedBy: pin.source }));
}

function mismatch(file: string, pin: ReleasePin, field: PinField, found: string): FleetError {
  return new FleetError([{ code: "pin-mismatch", file, field, expected: pin[field], found, pinnedBy: pin.source }]);
}
