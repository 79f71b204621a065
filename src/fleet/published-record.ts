/**
 * `<name>-<version>.published.json`: what `relup fleet publish` recorded in the store beside a release,
 * and printed: the release's identity and the tarball's digest, the pin every node checks a download
 * against (the rollout records it in etcd; the store's copy is for people and tools).
 *
 *   format     always 1
 *   release    name, version, identity
 *   tarball    file (its name in the store, beside this record), sha256, bytes
 *   signature  file and key id, when the release was published with a signature
 */
import { z } from "zod";
import { Sha256 } from "../release/names.ts";
import { SignedRelease } from "./signature-file.ts";

export const PublishedRecord = z
  .object({
    format: z.literal(1),
    release: SignedRelease,
    tarball: z
      .object({
        file: z.string().regex(/^[a-z][a-z0-9_-]*-[0-9A-Za-z.+-]+\.tar\.gz$/, "must be the tarball's file name, <name>-<version>.tar.gz"),
        sha256: Sha256,
        bytes: z.number().int().nonnegative(),
      })
      .strict(),
    signature: z.object({ file: z.string(), key: Sha256 }).strict().optional(),
  })
  .strict()
  .describe("<name>-<version>.published.json: a release as published to a relup release store");
export type PublishedRecord = z.infer<typeof PublishedRecord>;

/** What a node checks a fetched release against: the tarball's sha256 and the release's identity. */
export interface ReleasePin {
  name: string;
  version: string;
  identity: string;
  sha256: string;
  /** where the pin came from, for messages: "the rollout in etcd", "the store record …" */
  source: string;
}

export function pinOf(record: PublishedRecord, source: string): ReleasePin {
  return { ...record.release, sha256: record.tarball.sha256, source };
}
