/**
 * Check a release tarball's detached signature against the trusted keys, from the tarball's digest
 * alone: nothing is unpacked before it passes. In order: a signature is there (`unsigned`), it parses
 * (`bad-file`), its key is trusted (`untrusted-key`), it verifies with that key (`bad-signature`: the
 * file was edited), and it signs these bytes (`other-tarball`). Failures are data (issues.ts).
 */
import { verify } from "node:crypto";
import { parseJsonFile } from "../release/parse-json-file.ts";
import { badFile } from "./bad-file.ts";
import type { Digest } from "./hash-file.ts";
import type { FleetIssue } from "./issues.ts";
import { SignatureFile, signedText } from "./signature-file.ts";
import type { TrustedKeys } from "./signing-keys.ts";

export interface SignatureInput {
  /** the tarball as named in messages (a path or URL) */
  tarball: string;
  digest: Digest;
  /** the signature as named in messages */
  signatureFile: string;
  /** its text; undefined when there is none */
  text: string | undefined;
  trusted: TrustedKeys;
}

export type SignatureCheck = { ok: true; signature: SignatureFile; keyFile: string } | { ok: false; issues: FleetIssue[] };

const RESIGN = "sign the tarball again with `relup sign <tarball> --key <private key>`; signature files are not edited by hand (docs/fleet.md describes them).";

export function verifySignature(input: SignatureInput): SignatureCheck {
  const trustedIds = [...input.trusted.keys()].sort();
  if (input.text === undefined) return fail({ code: "unsigned", file: input.tarball, signature: input.signatureFile, trusted: trustedIds });
  const parsed = parseJsonFile(input.signatureFile, input.text, SignatureFile, RESIGN);
  if (!parsed.ok) {
    return fail(...parsed.issues.map((issue) => badFile(input.signatureFile, issue, RESIGN)));
  }
  const signature = parsed.value;
  const key = input.trusted.get(signature.key);
  if (!key) return fail({ code: "untrusted-key", file: input.signatureFile, key: signature.key, trusted: trustedIds });
  if (!verify(null, signedText(signature), key.publicKey, Buffer.from(signature.signature, "base64"))) {
    return fail({ code: "bad-signature", file: input.signatureFile, key: signature.key });
  }
  if (signature.tarball.sha256 !== input.digest.sha256 || signature.tarball.bytes !== input.digest.bytes) {
    return fail({ code: "other-tarball", file: input.signatureFile, tarball: input.tarball, signed: signature.tarball.sha256, found: input.digest.sha256 });
  }
  return { ok: true, signature, keyFile: key.file };
}

const fail = (...issues: FleetIssue[]): SignatureCheck => ({ ok: false, issues });
