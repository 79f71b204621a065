/**
 * A group's desired release in etcd, `relup/groups/<group>/desired`, written by `relup fleet desire` (and,
 * later, by a rollout): the release every node of the group converges to (node-agent.ts).
 *
 *   format      always 1
 *   generation  1, 2, ...: raised by every write, so that a node reports which desire it answered
 *   release     name, version, identity (of release.json), and the tarball's sha256: the pin
 *   url         the tarball's URL in the store; signatureUrl: its signature, when not beside it
 *   plan        the reviewed relup plan inline, or {url} of one (file:// or http(s)://)
 *   source      where the pin was read (the store's .published.json record), for messages
 *   since       when it was written (ISO 8601)
 */
import { z } from "zod";
import { AppName, Sha256, Version } from "../release/names.ts";
import { RelupFile } from "../relup/instruction.ts";
import { KEY_ROOT } from "./node-record.ts";
import type { ReleasePin } from "./published-record.ts";

export const DesiredRecord = z
  .object({
    format: z.literal(1),
    generation: z.number().int().positive(),
    release: z.object({ name: AppName, version: Version, identity: Sha256, sha256: Sha256 }).strict(),
    url: z.string().describe("The tarball's URL: file://, http:// or https://"),
    signatureUrl: z.string().optional().describe("The signature's URL, when it is not the tarball's URL with .sig.json added"),
    plan: z.union([z.object({ inline: RelupFile }).strict(), z.object({ url: z.string() }).strict()]).describe("The plan the nodes install it with: inline, or a URL"),
    source: z.string(),
    since: z.string(),
  })
  .strict()
  .describe("A fleet group's desired release in etcd: relup/groups/<group>/desired");
export type DesiredRecord = z.infer<typeof DesiredRecord>;

export function desiredKey(group: string): string {
  return `${KEY_ROOT}/${group}/desired`;
}

export function pinOfDesired(desired: DesiredRecord, group: string): ReleasePin {
  return { ...desired.release, source: `the desired release of group ${group} in etcd (generation ${desired.generation})` };
}
