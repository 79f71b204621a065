/**
 * The node agent, run by a `--fleet` node's launcher beside its membership (fleet-member.ts): it watches
 * the group's desired release (desired-record.ts, an etcd watch) and converges its own node to it:
 *
 * 1. the node already runs that version: the record says running, with the desire's generation;
 * 2. otherwise `fetching`: fetchRelease (fetch-release.ts) with the pin from etcd (sha256, name, version,
 *    identity) and the trusted keys of `relup start --trusted-key`, into ROOT/fleet/incoming;
 * 3. `applying`: applyRelease (src/apply), as `relup apply TARBALL --plan P` does: the node unpacks the
 *    tarball through its control socket, checks the plan and installs it live (not permanent), or refuses
 *    it and changes nothing (an unpacked release that was not installed is removed again);
 * 4. `running` on the new release, or `failed` with the issue as its formatter words it. A failed
 *    generation is not retried: a new desire (a new generation) is.
 *
 * One desire at a time: a desire written during a convergence is taken after it, the latest only. A node
 * the launcher restarts boots its permanent release: once ready, it is converged again (nodeReady). Every
 * step goes to ROOT/log/fleet.jsonl through `log`.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Etcd3, Watcher } from "etcd3";
import { applyRelease } from "../apply/apply-release.ts";
import { controlRequest } from "../runtime/control-client.ts";
import { connectEtcd } from "./etcd-client.ts";
import type { FleetConfig } from "./fleet-config.ts";
import type { FleetMember } from "./fleet-member.ts";
import { DesiredRecord, desiredKey, pinOfDesired } from "./desired-record.ts";
import { downloadText } from "./download.ts";
import { fetchRelease } from "./fetch-release.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import { parseStoreUrl } from "./store-url.ts";

export interface AgentOptions {
  config: FleetConfig;
  root: string;
  member: FleetMember;
  trusted?: TrustedKeys;
  log: (event: string, fields: Record<string, unknown>) => void;
}

export class NodeAgent {
  #options: AgentOptions;
  #client: Etcd3;
  #watcher: Watcher | undefined;
  #latest: DesiredRecord | undefined;
  #handled: DesiredRecord | undefined;
  #draining: Promise<void> | undefined;
  #stopped = false;

  private constructor(options: AgentOptions) {
    this.#options = options;
    this.#client = connectEtcd(options.config.endpoints);
  }

  /** Watch the group's desired release; the watch is opened before the first read, so nothing is missed. */
  static start(options: AgentOptions): NodeAgent {
    const agent = new NodeAgent(options);
    void agent.#watch();
    return agent;
  }

  async #watch(): Promise<void> {
    const key = desiredKey(this.#options.config.group);
    try {
      const watcher = await this.#client.watch().key(key).create();
      if (this.#stopped) return void (await watcher.cancel());
      this.#watcher = watcher;
      watcher.on("put", (kv) => this.#offer(kv.value.toString()));
      watcher.on("error", (error: Error) => this.#options.log("fleet watch error", { key, error: error.message }));
      const current = await this.#client.get(key).string();
      if (current !== null && this.#latest === undefined) this.#offer(current);
    } catch (error) {
      // etcd down at the start: the etcd3 client retries the watch; the read is retried by the next put.
      this.#options.log("fleet watch failed", { key, error: (error as Error).message });
    }
  }

  #offer(value: string): void {
    if (this.#stopped) return;
    let data: unknown;
    try {
      data = JSON.parse(value);
    } catch (error) {
      return this.#options.log("fleet desired release unreadable", { key: desiredKey(this.#options.config.group), error: `not JSON (${(error as Error).message})` });
    }
    const parsed = DesiredRecord.safeParse(data);
    if (!parsed.success) {
      return this.#options.log("fleet desired release unreadable", { key: desiredKey(this.#options.config.group), error: parsed.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ") });
    }
    this.#latest = parsed.data;
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /**
   * The launcher's node is ready again (it was restarted: it boots its permanent release): converge it
   * again to the desired release, and take a desire deferred while it was down.
   */
  nodeReady(): void {
    if (this.#stopped) return;
    this.#handled = undefined;
    if (this.#latest !== undefined) this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && this.#latest !== undefined && this.#latest !== this.#handled) {
      // A node that is not up (restarting, stopping) is converged when it is ready again (nodeReady).
      if (!["running", "failed"].includes(this.#options.member.record.status)) return;
      const desired = this.#latest;
      await this.#converge(desired);
      this.#handled = desired;
    }
  }

  async #converge(desired: DesiredRecord): Promise<void> {
    const { member, root, log, config } = this.#options;
    const { name, version } = desired.release;
    const generation = desired.generation;
    const report = member.record.desired;
    if (report?.generation === generation && report.failure !== undefined) return;
    try {
      const status = await controlRequest(root, { cmd: "status" }, { timeout: 10_000 });
      if (status.release.name !== name) throw new Error(`the group's desired release is ${name} ${version}, but this node runs ${status.release.name}: a node runs one release. Fix: start this node in the group of ${status.release.name}, or desire a version of ${status.release.name} for group ${config.group}`);
      if (status.release.version === version) {
        member.report("running", { release: { name, version }, desired: { generation, version } });
        log("fleet desired release running", { generation, release: `${name} ${version}` });
        return;
      }
      member.report("fetching", { desired: { generation, version } });
      log("fleet fetching", { generation, release: `${name} ${version}`, url: desired.url });
      const incoming = path.join(root, "fleet", "incoming");
      const fetched = await fetchRelease({ url: desired.url, pin: pinOfDesired(desired, config.group), dest: incoming, ...(this.#options.trusted ? { trusted: this.#options.trusted } : {}), ...(desired.signatureUrl !== undefined ? { signatureUrl: desired.signatureUrl } : {}) });
      const planFile = path.join(incoming, `${name}-${version}.relup.json`);
      try {
        await writeFile(planFile, await planText(desired), { mode: 0o600 });
        member.report("applying", { desired: { generation, version } });
        log("fleet applying", { generation, release: `${name} ${version}`, from: status.release.version });
        const from = "inline" in desired.plan ? `${desiredKey(config.group)} (inline)` : desired.plan.url;
        const applied = await applyRelease({ root, release: fetched.tarball, planFile, confirm: async () => false, note: (text) => log("fleet apply note", { text }) }).catch((error: Error) => {
          throw new Error(`installing ${name} ${version} with the plan from ${from} (written to ${planFile}):\n${error.message}`);
        });
        member.report("running", { release: { name, version: applied.to }, desired: { generation, version } });
        log("fleet desired release running", { generation, release: `${name} ${applied.to}`, from: applied.from });
      } finally {
        await rm(fetched.tarball, { force: true });
        await rm(`${fetched.tarball}.sig.json`, { force: true });
        await rm(planFile, { force: true });
      }
    } catch (error) {
      const failure = (error as Error).message;
      member.report("failed", { desired: { generation, version, failure } });
      log("fleet desired release failed", { generation, release: `${name} ${version}`, error: failure });
    }
  }

  /** Stop watching; a convergence under way finishes on the node, its reports are dropped with the record. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watcher?.cancel().catch(() => undefined);
    this.#client.close();
  }
}

/** The desired plan as the text of a relup file: inline, or fetched from its URL (applyRelease reads and checks it). */
async function planText(desired: DesiredRecord): Promise<string> {
  if ("inline" in desired.plan) return JSON.stringify(desired.plan.inline, null, 2);
  const url = parseStoreUrl(desired.plan.url, "the desired plan's URL");
  const text = await downloadText(url, { maxBytes: 64 * 1024 * 1024 });
  if (text === undefined) throw new Error(`${url.href}: no plan there. Fix: put the plan at that URL, or desire the release again with --plan`);
  return text;
}
