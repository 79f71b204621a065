/**
 * The node agent, run by a `--fleet` node's launcher beside its membership (fleet-member.ts): it watches
 * the group's desired record and rollout record (group-watch.ts) and drives its own node by their rules:
 * the rollout's (rollout-step.ts says what, rollout-agent.ts does it) where they apply, the desired
 * record's (converge-desired.ts) otherwise. Every refresh it also publishes the node's health
 * (node-health-reporter.ts) and looks again (a step that waited on another node, a node that answers again).
 *
 * It never fights itself or the records: one action at a time (a record written during an action is
 * taken after it, the latest only); an action is keyed by what it was asked and where the node was (the
 * rollout, or the desired generation, and the release the node ran), and a key is acted on once: a
 * failed action is not retried in a loop, while a new record that asks something else is acted on. A
 * node its launcher restarts boots its permanent release: once it is ready (nodeReady) the keys are
 * forgotten and it converges again by the same rules.
 *
 * The deadline: the rollout's deadline key (rollout-deadline) deleted while the rollout is running or
 * reverting (etcd deletes it when the driver stops renewing its lease), or missing for the deadline's
 * length since the agent saw the rollout (an agent that starts after the key went, or a driver that writes
 * the record before the key), means there is no driver: the agent moves the record running → reverting,
 * its node reverts by the reverting rule, and the last agent to see no node left on the release moves it
 * reverting → reverted.
 */
import type { Etcd3 } from "etcd3";
import { controlRequest } from "../runtime/control-client.ts";
import { assertNever } from "../errors.ts";
import { convergeDesired } from "./converge-desired.ts";
import type { DesiredRecord } from "./desired-record.ts";
import { connectEtcd } from "./etcd-client.ts";
import type { FleetConfig } from "./fleet-config.ts";
import type { FleetMember } from "./fleet-member.ts";
import { watchGroup } from "./group-watch.ts";
import { NodeHealthReporter } from "./node-health-reporter.ts";
import { RolloutAgent } from "./rollout-agent.ts";
import type { RolloutRecord } from "./rollout-record.ts";
import { rolloutStep } from "./rollout-step.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import type { WaveBarrier } from "./wave-barrier.ts";

export interface AgentOptions {
  config: FleetConfig;
  root: string;
  member: FleetMember;
  trusted?: TrustedKeys;
  log: (event: string, fields: Record<string, unknown>) => void;
  /** how often (ms) the agent publishes the node's health and looks again; default 5 s */
  refreshMs?: number;
}

interface Running {
  name: string;
  version: string;
  permanent: boolean;
}

export class NodeAgent {
  #options: AgentOptions;
  #client: Etcd3;
  #rollouts: RolloutAgent;
  #health: NodeHealthReporter;
  /** the barrier of the install under way, when it has one */
  #barrier: WaveBarrier | undefined;
  #watch: { cancel(): Promise<void> } | undefined;
  #desired: DesiredRecord | undefined;
  #rollout: RolloutRecord | undefined;
  /** the deadline key: present now; deleted while this rollout was the group's; missing for its whole length */
  #deadline: { present: boolean; deletedFor?: string; expiredFor?: string; timer?: NodeJS.Timeout; timerFor?: string } = { present: false };
  #attempted = new Set<string>();
  #dirty = false;
  #draining: Promise<void> | undefined;
  #tick: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(options: AgentOptions) {
    this.#options = options;
    this.#client = connectEtcd(options.config.endpoints);
    this.#rollouts = new RolloutAgent({ ...options, client: this.#client });
    this.#health = new NodeHealthReporter(options);
  }

  static start(options: AgentOptions): NodeAgent {
    const agent = new NodeAgent(options);
    void agent.#begin();
    return agent;
  }

  async #begin(): Promise<void> {
    const { config, log } = this.#options;
    // The refresh runs whether etcd answers or not: health is written once it does.
    this.#tick = setInterval(() => this.#refresh(), this.#options.refreshMs ?? 5_000).unref();
    const watch = await watchGroup(this.#client, config.group, {
      desired: (record) => {
        this.#desired = record;
        this.#kick();
      },
      rollout: (record) => {
        this.#rollout = record;
        // An install held at the wave's barrier is decided by the record as it comes, not after the install.
        this.#barrier?.update(record);
        this.#watchDeadline();
        this.#kick();
      },
      deadline: (present, initial) => {
        const d = this.#deadline;
        d.present = present;
        if (present) {
          d.deletedFor = d.expiredFor = undefined;
          clearTimeout(d.timer);
          d.timerFor = undefined;
        } else if (!initial && this.#rollout) d.deletedFor = this.#rollout.id;
        this.#watchDeadline();
        this.#kick();
      },
      log,
    });
    if (this.#stopped) return void (await watch.cancel());
    this.#watch = watch;
    this.#refresh();
  }

  /** Every refresh: the node's health into its record (with the rollout's HTTP check while it runs), and look again. */
  #refresh(): void {
    const rollout = this.#rollout;
    const active = rollout && (rollout.state === "running" || rollout.state === "reverting");
    void this.#health.refresh(active ? rollout.options.healthPath : undefined, rollout?.id);
    this.#kick();
  }

  /** A rollout that runs with no deadline key known: the deadline's length from now, unless the key appears. */
  #watchDeadline(): void {
    const d = this.#deadline;
    const rollout = this.#rollout;
    if (d.present || !rollout || (rollout.state !== "running" && rollout.state !== "reverting") || d.timerFor === rollout.id) return;
    clearTimeout(d.timer);
    d.timerFor = rollout.id;
    d.timer = setTimeout(() => {
      d.expiredFor = rollout.id;
      this.#kick();
    }, rollout.options.deadlineS * 1000).unref();
  }

  #driverGone(rollout: RolloutRecord): boolean {
    const d = this.#deadline;
    return !d.present && (d.deletedFor === rollout.id || d.expiredFor === rollout.id);
  }

  /** The launcher's node is ready again (restarted: it boots its permanent release): converge it again. */
  nodeReady(): void {
    this.#attempted.clear();
    this.#kick();
  }

  #kick(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#dirty) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      // A node that is not up (restarting, stopping) is looked at again when it is ready (nodeReady).
      if (!["running", "failed"].includes(this.#options.member.record.status)) return;
      let running: Running;
      try {
        running = await this.#running();
      } catch (error) {
        this.#options.log("fleet node not answering", { error: (error as Error).message, action: "looking again at the next refresh" });
        return;
      }
      if (await this.#step(running)) this.#dirty = true;
    }
  }

  /** The one next thing for the node; true when it acted (and the agent should look again). */
  async #step(running: Running): Promise<boolean> {
    const rollout = this.#rollout;
    const { member, config } = this.#options;
    if (!rollout) return this.#converge(running);
    const driverGone = this.#driverGone(rollout);
    const step = rolloutStep({ rollout, nodeId: config.nodeId, running, report: member.record.rollout, deadlinePassed: driverGone });
    const release = { name: rollout.release.name, version: running.version };
    switch (step.do) {
      case "desired":
        return this.#converge(running);
      case "nothing":
        if (rollout.state === "reverting" && driverGone) await this.#rollouts.settle(rollout);
        return false;
      case "deadline":
        // Not keyed: the transaction checks the record and the key again; the next record says what follows.
        await this.#rollouts.passDeadline(rollout);
        return false;
      case "prepare":
      case "install":
        return this.#once(`install:${rollout.id}:${running.version}`, () => this.#rollouts.install(rollout, step.wave, running.version, { hold: step.do === "prepare", barrier: (barrier) => (this.#barrier = barrier) }));
      case "installed":
        this.#rollouts.report(rollout, step.wave, "installed", "running", { release });
        this.#options.log("fleet rollout installed", { rollout: rollout.id, wave: step.wave, release: `${release.name} ${release.version}`, note: "the node already ran it" });
        return true;
      case "revert":
        return this.#once(`revert:${rollout.id}:${running.version}`, () => this.#rollouts.revert(rollout, step.wave));
      case "reverted":
        this.#rollouts.report(rollout, step.wave, "reverted", "running", { release });
        this.#options.log("fleet rollout reverted", { rollout: rollout.id, wave: step.wave, to: running.version, note: "the node no longer ran the release" });
        if (rollout.state === "reverting" && driverGone) await this.#rollouts.settle(rollout);
        return true;
      case "permanent":
        return this.#once(`permanent:${rollout.id}:${running.version}`, () => this.#rollouts.permanent(rollout, step.wave, running.permanent));
      default:
        return assertNever(step);
    }
  }

  #converge(running: Running): Promise<boolean> {
    const desired = this.#desired;
    if (!desired) return Promise.resolve(false);
    return this.#once(`desired:${desired.generation}:${running.version}`, () => convergeDesired(this.#options, desired, running));
  }

  /** Run an action once per key (until the node restarts); true when it ran. */
  async #once(key: string, action: () => Promise<void>): Promise<boolean> {
    if (this.#attempted.has(key)) return false;
    this.#attempted.add(key);
    await action();
    return true;
  }

  async #running(): Promise<Running> {
    const releases = await controlRequest(this.#options.root, { cmd: "releases" }, { timeout: 10_000 });
    const running = releases.find((r) => r.status === "current") ?? releases.find((r) => r.status === "permanent");
    if (!running) throw new Error("the node names no current or permanent release");
    return { name: running.name, version: running.version, permanent: running.status === "permanent" };
  }

  /** Stop watching; an action under way finishes on the node, its reports are dropped with the record. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#barrier?.cancel("the node's launcher stops");
    clearInterval(this.#tick);
    clearTimeout(this.#deadline.timer);
    await this.#watch?.cancel();
    this.#client.close();
  }
}
