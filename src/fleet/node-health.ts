/**
 * A node's health as its agent publishes it in its node record (node-record.ts), read from the node's
 * `health` control request every refresh: the soak of a rollout (rollout-record.ts) compares it with the
 * node's baseline taken before its wave.
 */
import { z } from "zod";

/** A node's health as its agent publishes it in its record (node-record.ts): counters since the node booted. */
export const NodeHealth = z
  .object({
    /** when the agent read it (ISO 8601) */
    at: z.string(),
    /** the node's pid and uptime (ms) when read: a restarted node starts its counters again */
    nodePid: z.number().int().positive(),
    uptimeMs: z.number().min(0),
    /** processes that ended with an error, supervisor restarts of children, `call`s that failed (timeout, no process, the callee crashed) */
    crashes: z.number().int().min(0),
    restarts: z.number().int().min(0),
    failedCalls: z.number().int().min(0),
    /** the event loop's delay, 99th percentile and max (ms), over the last interval the agent read */
    loopP99Ms: z.number().min(0),
    loopMaxMs: z.number().min(0),
    /**
     * with the rollout's health path: the node's answers to it since the agent started checking it for
     * that rollout (`rollout`: its id; a new rollout starts the counts again), the last answer, and the
     * last failed one
     */
    http: z
      .object({ path: z.string(), rollout: z.string().optional(), ok: z.number().int().min(0), failed: z.number().int().min(0), last: z.string(), lastFailure: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type NodeHealth = z.infer<typeof NodeHealth>;
