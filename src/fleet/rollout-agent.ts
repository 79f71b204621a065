/**
 * What the node agent does for a rollout record (rollout-record.ts), once rollout-step.ts has said what:
 *
 * - install (or prepare, held at the wave's barrier): installPinned with the rollout's pin and plan; the
 *   report goes installing → installed (prepared, with the barrier point's id, while held), or failed
 *   with the issue's wording, or aborted when the barrier aborted (undone in memory: nothing changed);
 * - revert: `rollback` over the control socket (rollbackRelease, as `relup rollback` does: in memory, the
 *   plan's down section, state migrated back) → reverted, or failed;
 * - permanent: the `permanent` control request → permanent;
 * - deadline: the record running → reverting, in a transaction on its mod revision (losing the race to
 *   the driver or another agent is fine: the next record says what to do);
 * - settle: with no driver, reverting → reverted once no node of the rollout's waves is still installing
 *   or preparing it, or runs the release installed or reverting for this rollout; failed, with the nodes
 *   and why, when a node whose revert failed still runs it.
 *
 * The report is the node record's `rollout` field {id, wave, state, failure?, since}, with the node's
 * status beside it (fetching, applying, running, failed) as for the desired record. Every step is logged.
 */
import type { Etcd3 } from "etcd3";
import { rollbackRelease } from "../apply/rollback-release.ts";
import { controlRequest } from "../runtime/control-client.ts";
import { RuntimeError } from "../runtime/issues/runtime-error.ts";
import type { FleetConfig } from "./fleet-config.ts";
import type { FleetMember } from "./fleet-member.ts";
import { installPinned } from "./install-pinned.ts";
import { groupListing } from "./list-group.ts";
import { type NODE_ROLLOUT_STATES, type NodeRecord, type NodeStatus, nodesPrefix } from "./node-record.ts";
import { RolloutRecord, rolloutDeadlineKey, rolloutKey } from "./rollout-record.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import { WaveBarrier } from "./wave-barrier.ts";

export interface RolloutContext {
  config: FleetConfig;
  root: string;
  member: FleetMember;
  client: Etcd3;
  trusted?: TrustedKeys;
  log: (event: string, fields: Record<string, unknown>) => void;
}

type NodeRolloutState = (typeof NODE_ROLLOUT_STATES)[number];

/** The states in which a node that runs the rollout's release still has it to revert. */
const ON_RELEASE: ReadonlySet<NodeRolloutState> = new Set(["installed", "reverting"]);

export class RolloutAgent {
  #context: RolloutContext;

  constructor(context: RolloutContext) {
    this.#context = context;
  }

  /**
   * Install the rollout's release. The install's barrier points are the wave's (wave-barrier.ts): with
   * the rollout's --barrier, `hold` (the wave preparing) holds it before the point of no return, the
   * report says `prepared` with the point's id, and the wave's decision releases it (`installed`) or
   * aborts it (`aborted`: undone in memory, the node unchanged); a plan's sync_nodes points are decided
   * the same way, with or without --barrier (the driver releases a point once every node of the wave
   * holds there). `barrier` is given the WaveBarrier to keep up to date with the rollout record.
   */
  async install(rollout: RolloutRecord, wave: number, from: string, options: { hold?: boolean; barrier?: (barrier: WaveBarrier | undefined) => void } = {}): Promise<void> {
    const { log, config, root } = this.#context;
    const { name, version } = rollout.release;
    const fields = { rollout: rollout.id, wave, release: `${name} ${version}` };
    // The wave decides the install's barrier points: the hold before the point of no return (--barrier), and a plan's sync_nodes points (with or without it).
    const barrier = new WaveBarrier(rollout.id, wave, rollout);
    let aborted: string | undefined;
    options.barrier?.(barrier);
    this.report(rollout, wave, "installing", "fetching");
    log("fleet rollout fetching", { ...fields, url: rollout.url, ...(options.hold ? { hold: "point_of_no_return" } : {}) });
    try {
      const applied = await installPinned({
        root,
        source: rollout,
        pinnedBy: `rollout ${rollout.id} of group ${config.group} in etcd`,
        inlinePlanFrom: `${rolloutKey(config.group)} (inline)`,
        ...(this.#context.trusted ? { trusted: this.#context.trusted } : {}),
        log,
        applying: () => {
          this.report(rollout, wave, "installing", "applying");
          log("fleet rollout applying", { ...fields, from });
        },
        apply: {
          barrier: {
            hold: options.hold === true,
            holdTimeoutMs: rollout.options.barrierTimeoutMs,
            decide: async (point) => {
              this.report(rollout, wave, "prepared", "applying", { barrier: point.id });
              log("fleet rollout prepared", { ...fields, barrier: point.id, timeoutMs: point.timeoutMs });
              const decided = await barrier.wait(point);
              log(`fleet rollout barrier ${decided.decision}`, { ...fields, barrier: point.id, reason: decided.reason });
              if (decided.decision === "abort") aborted = decided.reason;
              else this.report(rollout, wave, "installing", "applying");
              return decided.decision;
            },
          },
        },
      });
      this.report(rollout, wave, "installed", "running", { release: { name, version: applied.to } });
      log("fleet rollout installed", { ...fields, from: applied.from });
    } catch (error) {
      const failure = (error as Error).message;
      const cause = (error as Error).cause;
      if (cause instanceof RuntimeError && cause.issue.kind === "barrier-aborted") {
        // Held and aborted (by the wave's decision, or the node's own timeout): undone, nothing changed.
        const reason = aborted !== undefined ? `${aborted}: ${failure}` : failure;
        this.report(rollout, wave, "aborted", "running", { failure: reason });
        log("fleet rollout aborted", { ...fields, reason });
      } else {
        this.report(rollout, wave, "failed", "failed", { failure });
        log("fleet rollout install failed", { ...fields, error: failure });
      }
    } finally {
      barrier.cancel("the install ended");
      options.barrier?.(undefined);
    }
  }

  /** Roll the node back in memory to the release it ran before this rollout. */
  async revert(rollout: RolloutRecord, wave: number): Promise<void> {
    const { log, root } = this.#context;
    const fields = { rollout: rollout.id, wave, release: `${rollout.release.name} ${rollout.release.version}` };
    this.report(rollout, wave, "reverting", "applying");
    log("fleet rollout reverting", { ...fields, state: rollout.state, ...(rollout.reason !== undefined ? { reason: rollout.reason } : {}) });
    try {
      const result = await rollbackRelease({ root });
      if (result.dryRun) return;
      this.report(rollout, wave, "reverted", "running", { release: { name: rollout.release.name, version: result.to } });
      log("fleet rollout reverted", { ...fields, to: result.to });
    } catch (error) {
      const failure = (error as Error).message;
      this.report(rollout, wave, "failed", "failed", { failure: `reverting to ${rollout.from.version}: ${failure}` });
      log("fleet rollout revert failed", { ...fields, error: failure });
    }
  }

  /** The rollout succeeded: the release the node runs becomes the one it boots. */
  async permanent(rollout: RolloutRecord, wave: number | undefined, alreadyPermanent: boolean): Promise<void> {
    const { log, root } = this.#context;
    const { name, version } = rollout.release;
    try {
      if (!alreadyPermanent) await controlRequest(root, { cmd: "permanent", version }, { timeout: 30_000 });
      if (wave !== undefined) this.report(rollout, wave, "permanent", "running", { release: { name, version } });
      log("fleet rollout permanent", { rollout: rollout.id, release: `${name} ${version}` });
    } catch (error) {
      const failure = (error as Error).message;
      if (wave !== undefined) this.report(rollout, wave, "failed", "failed", { failure: `making ${version} permanent: ${failure}` });
      log("fleet rollout permanent failed", { rollout: rollout.id, release: `${name} ${version}`, error: failure });
    }
  }

  /** The report for this rollout, in the node record (the `since` of a state kept while it lasts). */
  report(rollout: RolloutRecord, wave: number, state: NodeRolloutState, status: NodeStatus, more: { failure?: string; barrier?: string; release?: NodeRecord["release"] } = {}): void {
    const { member } = this.#context;
    const before = member.record.rollout;
    const since = before?.id === rollout.id && before.state === state ? before.since : new Date().toISOString();
    const { failure, barrier, release } = more;
    member.report(status, { rollout: { id: rollout.id, wave, state, ...(failure !== undefined ? { failure } : {}), ...(barrier !== undefined ? { barrier } : {}), since }, ...(release ? { release } : {}) });
  }

  /** No driver: running → reverting, if the record is still the one read, running, and the deadline key still missing. */
  async passDeadline(rollout: RolloutRecord): Promise<void> {
    const reason = `no driver for ${rollout.options.deadlineS} s: the rollout's deadline passed`;
    const moved = await this.#advance(rollout.id, "running", async (current) => ((await this.#deadlinePresent()) ? undefined : { ...current, state: "reverting", reason }));
    if (moved) this.#context.log("fleet rollout deadline passed", { rollout: rollout.id, state: "reverting", reason });
  }

  /**
   * No driver, reverting: once no node of the waves is still installing or on the release for this
   * rollout, reverted; failed (with the nodes and why) when a node's revert failed and it runs the release.
   */
  async settle(rollout: RolloutRecord): Promise<void> {
    const { client, config } = this.#context;
    await this.#context.member.flushed();
    const listing = groupListing(config.group, await client.getAll().prefix(nodesPrefix(config.group)).strings());
    const inWaves = new Set(rollout.waves.flatMap((w) => w.nodes));
    const ours = listing.nodes.filter((n) => inWaves.has(n.id) && n.rollout?.id === rollout.id);
    const onRelease = (n: NodeRecord) => n.release?.version === rollout.release.version;
    if (ours.some((n) => n.rollout!.state === "installing" || n.rollout!.state === "prepared" || (ON_RELEASE.has(n.rollout!.state) && onRelease(n)))) return;
    const failed = ours.filter((n) => n.rollout!.state === "failed" && onRelease(n));
    const reason = failed.length === 0 ? undefined : `${rollout.reason ?? "reverting"}; the revert did not complete on ${failed.map((n) => `${n.id} (${n.rollout!.failure?.split("\n")[0] ?? "failed"})`).join(", ")}`;
    const moved = await this.#advance(rollout.id, "reverting", async (current) => ((await this.#deadlinePresent()) ? undefined : reason === undefined ? { ...current, state: "reverted" } : { ...current, state: "failed", reason }));
    if (moved) this.#context.log(reason === undefined ? "fleet rollout reverted by the nodes" : "fleet rollout failed to revert", { rollout: rollout.id, reason: reason ?? rollout.reason ?? "" });
  }

  async #deadlinePresent(): Promise<boolean> {
    return (await this.#context.client.get(rolloutDeadlineKey(this.#context.config.group)).exec()).kvs.length > 0;
  }

  /** Change the record in a transaction on its mod revision, if it is still rollout `id` in state `from`; true when written. */
  async #advance(id: string, from: RolloutRecord["state"], change: (current: RolloutRecord) => Promise<RolloutRecord | undefined>): Promise<boolean> {
    const { client, config, log } = this.#context;
    const key = rolloutKey(config.group);
    try {
      const kv = (await client.get(key).exec()).kvs[0];
      if (!kv) return false;
      const current = RolloutRecord.safeParse(JSON.parse(kv.value.toString()));
      if (!current.success || current.data.id !== id || current.data.state !== from) return false;
      const next = await change(current.data);
      if (!next) return false;
      const result = await client.if(key, "Mod", "==", kv.mod_revision).then(client.put(key).value(JSON.stringify({ ...next, updated: new Date().toISOString() }))).commit();
      return result.succeeded;
    } catch (error) {
      log("fleet rollout record not written", { rollout: id, from, error: (error as Error).message });
      return false;
    }
  }
}
