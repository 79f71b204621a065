/**
 * A node's membership of its group, held by its launcher: the node record (node-record.ts) under an
 * etcd lease that the etcd3 client keeps alive. etcd does the membership: the record exists while the
 * lease does, and disappears when the launcher revokes it (stop) or stops renewing it (it died, or lost
 * etcd for longer than the TTL). No protocol of relup's own.
 *
 * - join: grant a lease and create the record in one transaction, only if the key is free, or held by
 *   this same node's previous launcher (same host and root: a restart within the old lease's TTL), whose
 *   record it replaces. Another live node with the id is `node-id-taken`; etcd down is `etcd-unavailable`.
 * - attach(launcher): the record follows the launcher's events (ready, or a restart_new_emulator
 *   successor's takeover → running with the release and pid; a restart → restarting), and every `refreshMs` the node is asked which release it runs (`releases`
 *   over the control socket: cheap), so a live upgrade or rollback shows without a restart.
 * - a lost lease (etcd was unreachable for longer than the TTL, or the lease was revoked by someone
 *   else) is replaced: a new lease and the record again, retried with backoff until it works or stop().
 * - stop: the record says stopping, then the lease is revoked (the key goes with it) and the client closed.
 *
 * Events are reported through `log(event, fields)` (the launcher's log).
 */
import os from "node:os";
import type { Etcd3, Lease } from "etcd3";
import { controlRequest } from "../runtime/control-client.ts";
import type { Launcher, Ready } from "../runtime/launcher.ts";
import { connectEtcd, etcdUnavailable } from "./etcd-client.ts";
import type { FleetConfig } from "./fleet-config.ts";
import { FleetError } from "./issues.ts";
import { NodeRecord, nodeKey, type NodeStatus } from "./node-record.ts";

export interface MemberOptions {
  config: FleetConfig;
  root: string;
  /** the release name of the root (RELEASES), for the record */
  releaseName: string;
  relupVersion: string;
  refreshMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export class FleetMember {
  readonly key: string;
  #client: Etcd3;
  #lease: Lease | undefined;
  #record: NodeRecord;
  #options: MemberOptions;
  #stopped = false;
  #refresh: NodeJS.Timeout | undefined;
  #rejoin: NodeJS.Timeout | undefined;
  /** a registration after a lost lease, while it runs (it never rejects) */
  #registering: Promise<void> | undefined;
  /** writes in order: each waits for the one before */
  #writing: Promise<void> = Promise.resolve();
  /** the record changed since the last write began */
  #unwritten = false;

  private constructor(options: MemberOptions) {
    this.#options = options;
    this.key = nodeKey(options.config.group, options.config.nodeId);
    this.#client = connectEtcd(options.config.endpoints);
    this.#record = {
      format: 1,
      id: options.config.nodeId,
      group: options.config.group,
      host: os.hostname(),
      root: options.root,
      launcherPid: process.pid,
      nodePid: null,
      release: null,
      status: "starting",
      since: new Date().toISOString(),
      relup: options.relupVersion,
    };
  }

  /** Register the node (status starting); throws a FleetError when etcd is unreachable or the id is taken. */
  static async join(options: MemberOptions): Promise<FleetMember> {
    const member = new FleetMember(options);
    try {
      await member.#register();
    } catch (error) {
      member.#client.close();
      throw error instanceof FleetError ? error : etcdUnavailable(options.config.endpoints, error);
    }
    return member;
  }

  get record(): NodeRecord {
    return this.#record;
  }

  /** Follow a launcher's node: its readiness, deaths and the release it runs. */
  attach(launcher: Launcher): void {
    const running = (ready: Ready) => this.#update("running", { nodePid: ready.pid, release: { name: this.#options.releaseName, version: ready.version } });
    launcher.on("ready", running);
    // restart_new_emulator: the successor on the new release took over.
    launcher.on("takeover-ready", (_child: unknown, ready: Ready) => running(ready));
    // A node that exits is restarting only if the launcher restarts it (not when it was stopped).
    launcher.on("exit", () => this.#update(this.#record.status, { nodePid: null }));
    launcher.on("restart", () => this.#update("restarting", { nodePid: null }));
    this.#refresh = setInterval(() => void this.#refreshRelease(), this.#options.refreshMs ?? 5_000).unref();
  }

  /** The agent's progress (node-agent.ts): a status and fields of the record, written in order. */
  report(status: NodeStatus, fields: Partial<NodeRecord>): void {
    this.#update(status, fields);
  }

  /** Resolves once every report made so far is written to etcd (or failed to be: logged). */
  flushed(): Promise<void> {
    return this.#writing;
  }

  /** Say stopping, revoke the lease (the record goes with it), close the client. Never throws. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    clearInterval(this.#refresh);
    clearTimeout(this.#rejoin);
    this.#update("stopping", {});
    this.#stopped = true;
    // A registration under way ends first, so that the lease it may take is the one revoked below.
    await this.#registering;
    await this.#writing;
    await this.#lease?.revoke().catch((error: Error) => this.#log("fleet lease not revoked", { error: error.message, action: `the record goes when the lease expires (${this.#options.config.leaseTtlS} s)` }));
    this.#client.close();
  }

  async #register(): Promise<void> {
    const { config } = this.#options;
    const existing = await this.#client.get(this.key).exec();
    const kv = existing.kvs[0];
    if (kv) {
      const parsed = NodeRecord.safeParse(JSON.parse(kv.value.toString()));
      const same = parsed.success && parsed.data.host === this.#record.host && parsed.data.root === this.#record.root;
      if (!same) {
        const other = parsed.success ? parsed.data : { host: "?", root: "?" };
        throw new FleetError([{ code: "node-id-taken", group: config.group, id: config.nodeId, host: other.host, root: other.root }]);
      }
    }
    const lease = this.#client.lease(config.leaseTtlS, { autoKeepAlive: true });
    lease.on("lost", (error) => this.#lost(lease, error));
    try {
      const leaseId = await lease.grant();
      const value = JSON.stringify(this.#record);
      // Created only if the key is still as read: free, or the same revision of this node's old record.
      const txn = kv ? this.#client.if(this.key, "Mod", "==", kv.mod_revision) : this.#client.if(this.key, "Create", "==", 0);
      const result = await txn.then(this.#client.put(this.key).value(value).lease(leaseId)).commit();
      if (!result.succeeded) {
        await lease.revoke().catch(() => undefined);
        throw new FleetError([{ code: "node-id-taken", group: config.group, id: config.nodeId, host: "another host", root: "unknown (it registered while this node did)" }]);
      }
    } catch (error) {
      // No keepalive for a lease that holds nothing: etcd lets it expire.
      lease.release();
      throw error;
    }
    if (kv) this.#log("fleet record taken over", { key: this.key, from: "this node's previous launcher" });
    this.#lease = lease;
    this.#log("fleet joined", { key: this.key, group: config.group, id: config.nodeId, leaseTtlS: config.leaseTtlS });
  }

  #lost(lease: Lease, error: Error): void {
    if (this.#stopped || this.#lease !== lease) return;
    this.#lease = undefined;
    this.#log("fleet lease lost", { error: error.message, action: "registering again" });
    this.#scheduleRejoin(0);
  }

  #scheduleRejoin(attempt: number): void {
    if (this.#stopped) return;
    const delayMs = Math.min(5_000, 100 * 2 ** attempt);
    this.#rejoin = setTimeout(() => {
      this.#registering = this.#register().then(
        () => this.#log("fleet rejoined", { key: this.key }),
        (error: Error) => {
          this.#log("fleet rejoin failed", { error: error.message, retryInMs: Math.min(5_000, 100 * 2 ** (attempt + 1)) });
          this.#scheduleRejoin(attempt + 1);
        },
      );
    }, delayMs);
  }

  async #refreshRelease(): Promise<void> {
    if (this.#record.status !== "running" && this.#record.status !== "failed") return;
    try {
      const releases = await controlRequest(this.#options.root, { cmd: "releases" }, { timeout: 5_000 });
      const running = releases.find((r) => r.status === "current") ?? releases.find((r) => r.status === "permanent");
      if (running && running.version !== this.#record.release?.version) this.#update(this.#record.status, { release: { name: running.name, version: running.version } });
    } catch {
      // The node is busy or restarting: the launcher's events say so; the next refresh tries again.
    }
  }

  #update(status: NodeStatus, fields: Partial<NodeRecord>): void {
    if (this.#stopped) return;
    const since = status === this.#record.status ? this.#record.since : new Date().toISOString();
    this.#record = { ...this.#record, ...fields, status, since };
    this.#unwritten = true;
    this.#writing = this.#writing.then(async () => {
      // Writes coalesce: the record as it is when its turn comes, once (etcd slow or down: no backlog of old ones).
      if (!this.#unwritten) return;
      this.#unwritten = false;
      const lease = this.#lease;
      // Without a lease (lost, being replaced) the record is written by the next registration.
      if (!lease) return;
      const record = this.#record;
      await lease.put(this.key).value(JSON.stringify(record)).exec().then(
        () => undefined,
        (error: Error) => this.#log("fleet record not written", { error: error.message, status: record.status }),
      );
    });
  }

  #log(event: string, fields: Record<string, unknown>): void {
    this.#options.log?.(event, fields);
  }
}
