/**
 * `<tarball>.sig.json`: the detached signature of a release tarball (`relup sign`), kept beside it.
 *
 *   format     always 1
 *   release    name, version and identity (release-file.ts) of the release inside the tarball
 *   tarball    sha256 and size of the tarball's bytes
 *   key        the id of the signing key: sha256 of its public key (SPKI DER), hex
 *   algorithm  "ed25519"
 *   signature  base64 ed25519 signature of `signedText(file)`: every field above, in a fixed order
 *
 * The signature covers the tarball's bytes (through their sha256) and the release it holds, so a node
 * checks it before anything is unpacked, and a signature moved to another tarball, or edited, fails.
 */
import { z } from "zod";
import { AppName, Sha256, Version } from "../release/names.ts";

export const SIGNATURE_SUFFIX = ".sig.json";

export const SignedRelease = z
  .object({
    name: AppName,
    version: Version,
    identity: Sha256.describe("The release's identity: sha256 of its release.json with shipped plans left out"),
  })
  .strict();
export type SignedRelease = z.infer<typeof SignedRelease>;

export const SignatureFile = z
  .object({
    format: z.literal(1),
    release: SignedRelease,
    tarball: z.object({ sha256: Sha256, bytes: z.number().int().nonnegative() }).strict().describe("The signed tarball's bytes"),
    key: Sha256.describe("The signing key's id: sha256 of its public key (SPKI DER), hex"),
    algorithm: z.literal("ed25519"),
    signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, "must be a base64 ed25519 signature (64 bytes)"),
  })
  .strict()
  .describe("<tarball>.sig.json: the detached ed25519 signature of a relup release tarball");
export type SignatureFile = z.infer<typeof SignatureFile>;

/** Where a tarball's signature lives: beside it, the same name plus `.sig.json`. */
export function signatureFileOf(tarball: string): string {
  return `${tarball}${SIGNATURE_SUFFIX}`;
}

/** The bytes that are signed: a fixed prefix (no other use of the key can collide) and the fields, in order. */
export function signedText(file: Omit<SignatureFile, "signature">): Buffer {
  const fields = {
    format: file.format,
    release: { name: file.release.name, version: file.release.version, identity: file.release.identity },
    tarball: { sha256: file.tarball.sha256, bytes: file.tarball.bytes },
    key: file.key,
    algorithm: file.algorithm,
  };
  return Buffer.from(`relup release signature\n${JSON.stringify(fields)}`);
}
