/**
 * `relup sign`: a detached ed25519 signature of a release tarball, written beside it as
 * `<tarball>.sig.json` (signature-file.ts). The tarball is read with the safe release reader first, so
 * only a release that checks is signed, and its identity comes from what it holds. ed25519 signatures
 * are deterministic: signing the same tarball with the same key again writes the same file.
 */
import { sign } from "node:crypto";
import { lstat, readFile, rename, writeFile } from "node:fs/promises";
import { readRelease } from "../release/read-release.ts";
import { toJsonText } from "../release/fs-utils.ts";
import { hashFile } from "./hash-file.ts";
import { FleetError } from "./issues.ts";
import { signatureFileOf, signedText, type SignatureFile } from "./signature-file.ts";
import { readPrivateKey } from "./signing-keys.ts";

export interface SignResult {
  file: string;
  signature: SignatureFile;
  /** the same signature was already there */
  unchanged: boolean;
}

export async function signRelease(options: { tarball: string; keyFile: string; force?: boolean }): Promise<SignResult> {
  const info = await lstat(options.tarball).catch(() => undefined);
  if (info?.isDirectory()) {
    throw new FleetError([{ code: "bad-file", file: options.tarball, detail: "is a release directory; a signature covers the bytes of a release tarball", fix: `sign the tarball \`relup build\` wrote beside it (${options.tarball.replace(/\/+$/, "")}.tar.gz).` }]);
  }
  const { privateKey, keyId } = await readPrivateKey(options.keyFile);
  const loaded = await readRelease(options.tarball);
  await loaded.close();
  const unsigned = {
    format: 1 as const,
    release: { name: loaded.release.name, version: loaded.release.version, identity: loaded.identity },
    tarball: await hashFile(options.tarball),
    key: keyId,
    algorithm: "ed25519" as const,
  };
  const signature: SignatureFile = { ...unsigned, signature: sign(null, signedText(unsigned), privateKey).toString("base64") };
  const file = signatureFileOf(options.tarball);
  const text = toJsonText(signature);
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing === text) return { file, signature, unchanged: true };
  if (existing !== undefined && !options.force) {
    throw new FleetError([{ code: "exists", file, fix: "it signs this tarball with another key or another build; replace it with `relup sign --force`, or keep it." }]);
  }
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o644 });
  await rename(temp, file);
  return { file, signature, unchanged: false };
}
