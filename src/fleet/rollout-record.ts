/**
 * A group's rollout in etcd, `relup/groups/<group>/rollout`: the record `relup fleet rollout` writes and
 * drives (the driver), and every node agent of the group watches. It is the rollout's whole state: a
 * rollout is this record, not the process that drives it (`relup fleet rollout --resume` continues it).
 *
 *   format, id       1; the rollout's id (unique: time and random)
 *   group            the group
 *   release, url, signatureUrl, plan
 *                    the release rolled out, pinned (name, version, identity, tarball sha256), where the
 *                    nodes fetch it, and the reviewed plan they install it with: as in the desired record
 *   from             the release the group ran before (the desired record's, or what the nodes ran): what
 *                    a revert goes back to, and what a node restarted mid-rollout boots
 *   options          as given to `relup fleet rollout`: canary nodes, soak (ms), waves, max unavailable,
 *                    barrier (and its timeout, ms), deadline (s), health URL path
 *   state            running → succeeded; running → reverting → reverted (a regression, a failed node, a
 *                    barrier that aborted, the deadline passed with no driver); failed: a revert that could
 *                    not complete on some node (the reason says which)
 *   reason           why it is reverting, reverted or failed, in words (the formatter)
 *   waves            the nodes of each wave, in order (wave 0 is the canary when --canary > 0); each wave's
 *                    state: pending → (preparing → released | aborted, with --barrier) → installing →
 *                    soaking → passed, or failed
 *   baseline         each node's health before its wave (node-record.ts `health`), what the soak compares with
 *   started, updated ISO 8601; driver: who drives it now (host, pid), for `fleet status` and messages
 *
 * Who writes it: the driver, always in a transaction on the record's mod revision; a node agent only to
 * say that the deadline passed (running → reverting) and that the last node is back (reverting → reverted).
 * The deadline is `relup/groups/<group>/rollout-deadline`, a key under a lease of `options.deadlineS`
 * seconds that the driver keeps alive: when the driver is gone that long, etcd deletes the key and the
 * agents revert their nodes on their own (no clocks compared).
 */
import { z } from "zod";
import { AppName, Sha256, Version } from "../release/names.ts";
import { RelupFile } from "../relup/instruction.ts";
import { NodeHealth } from "./node-health.ts";
import { FleetName, KEY_ROOT } from "./node-record.ts";

export const ROLLOUT_STATES = ["running", "reverting", "reverted", "succeeded", "failed"] as const;
export const WAVE_STATES = ["pending", "preparing", "released", "aborted", "installing", "soaking", "passed", "failed"] as const;

export const RolloutWave = z
  .object({
    nodes: z.array(FleetName),
    state: z.enum(WAVE_STATES),
    /** with --barrier: "prepare" (each node prepares and holds before the point of no return), then "go" or "abort" */
    barrier: z.enum(["prepare", "go", "abort"]).optional(),
    /**
     * the barrier point `barrier` decides, when the driver names one (the id the wave's nodes reported
     * `prepared` at: a plan's sync_nodes id, or the implicit point before the point of no return); without
     * it, `go` releases every point of the wave's install
     */
    barrierId: z.string().optional(),
    started: z.string().optional(),
    /** when its soak ends (ISO 8601, the driver's clock: for display) */
    soakUntil: z.string().optional(),
  })
  .strict();
export type RolloutWave = z.infer<typeof RolloutWave>;

export const RolloutRecord = z
  .object({
    format: z.literal(1),
    id: z.string().regex(/^[a-z0-9-]{6,64}$/),
    group: FleetName,
    release: z.object({ name: AppName, version: Version, identity: Sha256, sha256: Sha256 }).strict(),
    url: z.string(),
    signatureUrl: z.string().optional(),
    plan: z.union([z.object({ inline: RelupFile }).strict(), z.object({ url: z.string() }).strict()]),
    from: z.object({ version: Version }).strict(),
    options: z
      .object({
        canary: z.number().int().min(0),
        soakMs: z.number().int().min(0),
        /** the size of each wave after the canary: a node count, or a share of the group such as "25%" */
        waves: z.string(),
        maxUnavailable: z.number().int().min(0),
        barrier: z.boolean(),
        barrierTimeoutMs: z.number().int().positive(),
        deadlineS: z.number().int().min(2),
        /** an HTTP path each node's agent GETs on the node's own port(s) for the soak's health check */
        healthPath: z.string().optional(),
        /** the soak's event-loop slack (ms): p99 above max(2 × baseline, baseline + this) is slow; default 50 */
        loopSlackMs: z.number().int().min(0).optional(),
      })
      .strict(),
    state: z.enum(ROLLOUT_STATES),
    reason: z.string().optional(),
    waves: z.array(RolloutWave),
    baseline: z.record(z.string(), NodeHealth),
    started: z.string(),
    updated: z.string(),
    driver: z.object({ host: z.string(), pid: z.number().int().positive() }).strict().optional(),
  })
  .strict()
  .describe("A fleet group's rollout in etcd: relup/groups/<group>/rollout");
export type RolloutRecord = z.infer<typeof RolloutRecord>;

export function rolloutKey(group: string): string {
  return `${KEY_ROOT}/${group}/rollout`;
}

export function rolloutDeadlineKey(group: string): string {
  return `${KEY_ROOT}/${group}/rollout-deadline`;
}

/** The etcd lock (etcd3's Lock: a key under the holder's lease) that lets one driver at a time drive the group's rollout. */
export function rolloutLockKey(group: string): string {
  return `${KEY_ROOT}/${group}/rollout-lock`;
}
