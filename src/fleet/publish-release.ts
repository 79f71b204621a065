/**
 * `relup fleet publish`: copy a release tarball (and its signature, when it has one) into a file://
 * store, and record its identity and digest beside it (published-record.ts). The tarball is read with
 * the safe reader first; a signature beside it must sign these bytes (and, given trusted keys, verify
 * with one of them), so nothing a node would refuse is published. A published version is immutable:
 * the same bytes again are a no-op, other bytes for it are refused unless `force`. Each file appears
 * whole (copied beside its place, then renamed), the record last, so a record means its files are there.
 *
 * An http(s):// store is read-only to relup (store-url.ts): publishing to it is refused with the fix.
 */
import { copyFile, lstat, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { toJsonText } from "../release/fs-utils.ts";
import { readRelease } from "../release/read-release.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { badFile } from "./bad-file.ts";
import { hashFile } from "./hash-file.ts";
import { FleetError, type FleetIssue } from "./issues.ts";
import { PublishedRecord } from "./published-record.ts";
import { SignatureFile, signatureFileOf } from "./signature-file.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import { parseStoreUrl, releaseUrls } from "./store-url.ts";
import { verifySignature } from "./verify-signature.ts";

export interface PublishOptions {
  tarball: string;
  store: string;
  /** when given, the release must be signed by one of these keys */
  trusted?: TrustedKeys;
  /** replace a different tarball published under the same version */
  force?: boolean;
}

export interface PublishResult {
  record: PublishedRecord;
  urls: { tarball: string; signature?: string; record: string };
  /** the same release was already published there */
  unchanged: boolean;
}

export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const store = parseStoreUrl(options.store);
  if (store.protocol !== "file:") {
    throw new FleetError([{ code: "bad-store", url: options.store, detail: "is an HTTP store, which relup reads but does not write", fix: "publish into the directory your HTTP server serves (`relup fleet publish REL --store file:///that/dir`), or upload <name>/<name>-<version>.tar.gz, its .sig.json and .published.json with your artifact tool (docs/fleet.md)." }]);
  }
  if ((await lstat(options.tarball).catch(() => undefined))?.isDirectory()) {
    throw new FleetError([{ code: "bad-file", file: options.tarball, detail: "is a release directory; a store holds release tarballs", fix: `publish the tarball \`relup build\` wrote beside it (${options.tarball.replace(/\/+$/, "")}.tar.gz).` }]);
  }
  const loaded = await readRelease(options.tarball);
  await loaded.close();
  const release = { name: loaded.release.name, version: loaded.release.version, identity: loaded.identity };
  const digest = await hashFile(options.tarball);
  const signature = await signatureBeside(options.tarball, digest, options.trusted);

  const urls = releaseUrls(store, release);
  const target = fileURLToPath(urls.tarball);
  const record: PublishedRecord = {
    format: 1,
    release,
    tarball: { file: path.basename(target), ...digest },
    ...(signature ? { signature: { file: path.basename(target) + ".sig.json", key: signature.file.key } } : {}),
  };
  const recordFile = fileURLToPath(urls.record);
  const result = { record, urls: { tarball: urls.tarball.href, ...(signature ? { signature: urls.signature.href } : {}), record: urls.record.href } };

  const present = await readFile(recordFile, "utf8").catch(() => undefined);
  if (present !== undefined) {
    const parsed = parseJsonFile(recordFile, present, PublishedRecord);
    const same = parsed.ok && parsed.value.tarball.sha256 === digest.sha256;
    if (present === toJsonText(record)) return { ...result, unchanged: true };
    if (!same && !options.force) {
      const found = parsed.ok ? `sha256 ${parsed.value.tarball.sha256}` : "a record that does not parse";
      throw new FleetError([{ code: "exists", file: recordFile, fix: `the store already has ${release.name} ${release.version} (${found}), and this tarball's sha256 is ${digest.sha256}; a published version is never changed under the nodes pinned to it. Build a new version, or replace it with --force if no node uses it.` }]);
    }
  }
  await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
  await placeCopy(options.tarball, target);
  if (signature) await placeText(signature.text, fileURLToPath(urls.signature));
  else await rm(fileURLToPath(urls.signature), { force: true });
  await placeText(toJsonText(record), recordFile);
  return { ...result, unchanged: false };
}

/** The signature beside the tarball, if any, checked: it signs these bytes, and verifies with a trusted key when keys are given. */
async function signatureBeside(tarball: string, digest: { sha256: string; bytes: number }, trusted: TrustedKeys | undefined): Promise<{ file: SignatureFile; text: string } | undefined> {
  const file = signatureFileOf(tarball);
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (trusted !== undefined) {
    const checked = verifySignature({ tarball, digest, signatureFile: file, text, trusted });
    if (!checked.ok) throw new FleetError(checked.issues);
    return { file: checked.signature, text: text! };
  }
  if (text === undefined) return undefined;
  const parsed = parseJsonFile(file, text, SignatureFile);
  if (!parsed.ok) throw new FleetError(parsed.issues.map((issue) => badFile(file, issue, "sign the tarball again with `relup sign`.")));
  if (parsed.value.tarball.sha256 !== digest.sha256) {
    const issue: FleetIssue = { code: "other-tarball", file, tarball, signed: parsed.value.tarball.sha256, found: digest.sha256 };
    throw new FleetError([issue]);
  }
  return { file: parsed.value, text };
}

async function placeCopy(source: string, target: string): Promise<void> {
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}

async function placeText(text: string, target: string): Promise<void> {
  const temp = `${target}.${process.pid}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
}
