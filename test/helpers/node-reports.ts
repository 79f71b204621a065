/**
 * Node records written by a test, as the node agents would write them, for tests of the rollout's driver
 * (the driver is what is tested; these reports are its input). Each node is a record in etcd with a
 * health read; `follow()` answers the rollout record as the agent's rules say (install the waves that are
 * released, prepare at a barrier, revert when reverting, make it permanent when succeeded), through
 * `behaviour` a test changes (a node that fails its install, one that never answers). `health()`
 * publishes a new health read, `gone()` deletes a node's record (its lease expired).
 */
import type { Etcd3, Watcher } from "etcd3";
import type { NodeHealth } from "../../src/fleet/node-health.ts";
import { type NodeRecord, nodeKey } from "../../src/fleet/node-record.ts";
import { RolloutRecord, rolloutKey } from "../../src/fleet/rollout-record.ts";

export interface Behaviour {
  /** what a node does when its wave is released: report installed (default), failed, or nothing */
  install(id: string, record: RolloutRecord): "installed" | "failed" | "silent";
  /** at a barrier: hold and report prepared (default), or say nothing (the node lost etcd) */
  prepare?(id: string, record: RolloutRecord): "prepared" | "silent";
  /** the plan's sync_nodes points: the node holds at each (reports prepared with its id) until the wave's barrier says go for it */
  points?: string[];
}

/** How often the nodes publish a health read, as agents do every refresh (RELUP_FLEET_REFRESH_MS in the real-node tests). */
const REFRESH_MS = 200;

export class ReportingNodes {
  readonly records = new Map<string, NodeRecord>();
  /** every rollout record seen, in order */
  readonly seen: RolloutRecord[] = [];
  /** node ids in the order they were told to install */
  readonly installs: string[] = [];
  behaviour: Behaviour = { install: () => "installed" };
  #clock = 0;
  #watcher: Watcher | undefined;
  #queue = Promise.resolve();
  #stopped = new Set<string>();
  /** the barrier points each node passed */
  #passed = new Map<string, Set<string>>();
  #refresh: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Etcd3,
    readonly group: string,
    ids: string[],
    from = "1.0.0",
    /** nodes that publish only the health reads the test writes (health()); the others one every REFRESH_MS */
    private readonly quiet: readonly string[] = [],
  ) {
    for (const [i, id] of ids.entries()) {
      this.records.set(id, {
        format: 1, id, group, host: "test", root: `/nodes/${id}`, launcherPid: 1000 + i, nodePid: 2000 + i,
        release: { name: "calculator", version: from }, status: "running", since: new Date().toISOString(), relup: "test",
        health: { at: this.#at(), nodePid: 2000 + i, uptimeMs: 60_000, crashes: 0, restarts: 0, failedCalls: 0, loopP99Ms: 5, loopMaxMs: 10 },
      });
    }
  }

  async start(): Promise<this> {
    for (const id of this.records.keys()) await this.#put(id);
    this.#watcher = await this.client.watch().key(rolloutKey(this.group)).create();
    this.#watcher.on("put", (kv) => {
      const record = RolloutRecord.parse(JSON.parse(kv.value.toString()));
      this.#queue = this.#queue.then(() => this.#follow(record)).catch((error: unknown) => console.error(error));
    });
    // As an agent does every refresh: a new health read of each node, as it was (tests change it with health()).
    this.#refresh = setInterval(() => {
      this.#queue = this.#queue.then(async () => {
        for (const [id, record] of this.records) {
          if (this.#stopped.has(id) || this.quiet.includes(id)) continue;
          record.health = { ...record.health!, uptimeMs: record.health!.uptimeMs + REFRESH_MS, at: this.#at() };
          await this.#put(id);
        }
      }).catch((error: unknown) => console.error(error));
    }, REFRESH_MS);
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.#refresh);
    await this.#watcher?.cancel();
    await this.#queue;
  }

  /** A new health read of the node (the same pid, a later uptime), with the changes given. */
  async health(id: string, change: Partial<NodeHealth> = {}): Promise<void> {
    const record = this.records.get(id)!;
    const before = record.health!;
    record.health = { ...before, uptimeMs: before.uptimeMs + 1000, ...change, at: this.#at() };
    await this.#put(id);
  }

  /** The node's status changes (its node died: restarting). */
  async status(id: string, status: NodeRecord["status"]): Promise<void> {
    this.records.get(id)!.status = status;
    await this.#put(id);
  }

  async gone(id: string): Promise<void> {
    this.#stopped.add(id);
    await this.client.delete().key(nodeKey(this.group, id));
  }

  async #put(id: string): Promise<void> {
    if (this.#stopped.has(id)) return;
    await this.client.put(nodeKey(this.group, id)).value(JSON.stringify(this.records.get(id)));
  }

  async #report(id: string, record: RolloutRecord, wave: number, state: NonNullable<NodeRecord["rollout"]>["state"], change: Partial<NodeRecord> = {}, failure?: string, barrier?: string): Promise<void> {
    const node = this.records.get(id)!;
    // The report and a health read of the same moment (the read is not one taken after the report).
    const at = this.#at();
    Object.assign(node, change, { rollout: { id: record.id, wave, state, since: at, ...(failure ? { failure } : {}), ...(barrier ? { barrier } : {}) } });
    node.health = { ...node.health!, uptimeMs: node.health!.uptimeMs + 100, at };
    await this.#put(id);
  }

  /** The agent's rules, for every node of the record's waves. */
  async #follow(record: RolloutRecord): Promise<void> {
    this.seen.push(record);
    for (const [wave, w] of record.waves.entries()) {
      for (const id of w.nodes) {
        const node = this.records.get(id);
        if (!node || this.#stopped.has(id)) continue;
        const mine = node.rollout?.id === record.id ? node.rollout.state : undefined;
        const upgraded = mine === "installed" || mine === "installing" || mine === "prepared";
        if (record.state === "running") {
          if (w.state === "preparing" && mine === undefined) {
            this.installs.push(id);
            if ((this.behaviour.prepare?.(id, record) ?? "prepared") === "prepared") await this.#report(id, record, wave, "prepared", {}, undefined, "point-of-no-return");
          } else if (w.state === "aborted" && mine === "prepared") {
            await this.#report(id, record, wave, "aborted");
          } else if (["released", "installing", "soaking", "passed"].includes(w.state) && (mine === undefined || mine === "prepared")) {
            if (mine === undefined) this.installs.push(id);
            const passed = this.#passed.get(id) ?? new Set<string>();
            this.#passed.set(id, passed);
            if (mine === "prepared") {
              const at = node.rollout!.barrier!;
              if (!(w.barrier === "go" && (w.barrierId === undefined || w.barrierId === at))) continue;
              passed.add(at);
            }
            const next = (this.behaviour.points ?? []).find((p) => !passed.has(p));
            if (next !== undefined) {
              await this.#report(id, record, wave, "prepared", {}, undefined, next);
              continue;
            }
            const outcome = this.behaviour.install(id, record);
            if (outcome === "silent") continue;
            if (outcome === "failed") await this.#report(id, record, wave, "failed", {}, `${id}: the plan's step 3 failed`);
            else await this.#report(id, record, wave, "installed", { release: { name: record.release.name, version: record.release.version } });
          }
        } else if (record.state === "reverting" && upgraded) {
          await this.#report(id, record, wave, "reverted", { release: { name: record.release.name, version: record.from.version } });
        } else if (record.state === "succeeded" && mine === "installed") {
          await this.#report(id, record, wave, "permanent");
        }
      }
    }
  }

  /** Now, and always later than the read before (as an agent's clock reads). */
  #at(): string {
    this.#clock = Math.max(Date.now(), this.#clock + 1);
    return new Date(this.#clock).toISOString();
  }
}
