/**
 * A node's record in etcd, `relup/groups/<group>/nodes/<node id>`, written by its launcher under a lease
 * (fleet-member.ts): it exists while the launcher is alive and keeps the lease, and goes when the lease is
 * revoked (a stop) or expires (the launcher died, or lost etcd for longer than the lease's TTL).
 *
 *   format       always 1
 *   id, group    the node and its group
 *   host         the machine's hostname; root: the node's release root there
 *   launcherPid  the launcher's OS pid; nodePid: the node's, while one runs
 *   release      {name, version} of what the node runs now (refreshed after a live upgrade), or null
 *                before the first boot
 *   status       starting (registered, booting) | running (ready) | restarting (the node died; the
 *                launcher restarts it) | stopping | fetching, applying (the agent converges to the
 *                group's desired release: node-agent.ts) | failed (it could not; the node runs on)
 *   desired      what the agent last did about the group's desired release: its generation, the
 *                version, and when it failed, why (worded by the formatters of the issue)
 *   rollout      what the agent did for the group's rollout (rollout-record.ts): the rollout's id, the
 *                node's wave, and its state there (installing, prepared: held at the barrier, installed,
 *                aborted, reverting, reverted, permanent, failed with why)
 *   health       the node's health counters (node-health.ts), refreshed with the release
 *   since        when the status last changed (ISO 8601); relup: the relup version of the launcher
 */
import { z } from "zod";
import { AppName, Version } from "../release/names.ts";
import { NodeHealth } from "./node-health.ts";

export const NODE_STATUSES = ["starting", "running", "restarting", "stopping", "fetching", "applying", "failed"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
export const NODE_ROLLOUT_STATES = ["installing", "prepared", "installed", "aborted", "reverting", "reverted", "permanent", "failed"] as const;

/** Node ids and group names: safe as one etcd key segment and in a table. */
export const FleetName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit");

export const NodeRecord = z
  .object({
    format: z.literal(1),
    id: FleetName,
    group: FleetName,
    host: z.string(),
    root: z.string(),
    launcherPid: z.number().int().positive(),
    nodePid: z.number().int().positive().nullable(),
    release: z.object({ name: AppName, version: Version }).strict().nullable(),
    status: z.enum(NODE_STATUSES),
    since: z.string(),
    relup: z.string(),
    desired: z
      .object({ generation: z.number().int().positive(), version: Version, failure: z.string().optional() })
      .strict()
      .optional(),
    rollout: z
      .object({
        id: z.string(),
        wave: z.number().int().min(0),
        state: z.enum(NODE_ROLLOUT_STATES),
        failure: z.string().optional(),
        /** with `prepared`: the barrier point the node holds at (wave-barrier.ts) */
        barrier: z.string().optional(),
        since: z.string(),
      })
      .strict()
      .optional(),
    health: NodeHealth.optional(),
  })
  .strict()
  .describe("A node's record in etcd: relup/groups/<group>/nodes/<id>");
export type NodeRecord = z.infer<typeof NodeRecord>;

export const KEY_ROOT = "relup/groups";

export function nodesPrefix(group: string): string {
  return `${KEY_ROOT}/${group}/nodes/`;
}

export function nodeKey(group: string, id: string): string {
  return `${nodesPrefix(group)}${id}`;
}
