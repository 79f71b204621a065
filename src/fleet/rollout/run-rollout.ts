/**
 * `relup fleet rollout` as a library call: take the group's lock, then either start a rollout (refused
 * while another one is running or reverting: that one is resumed, not replaced) or, with `resume`, take
 * the group's rollout record where it is; hold the deadline lease; drive it (drive-rollout.ts) to its end.
 *
 * A new record: the waves from the group's registered nodes (plan-waves.ts), each node's current health as
 * its baseline, `from` the group's desired release (or what its nodes run). The deadline key is put
 * before the record, so no agent ever sees a running record without one.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Etcd3 } from "etcd3";
import { ExitCode, UserError } from "../../errors.ts";
import { DesiredRecord, desiredKey } from "../desired-record.ts";
import type { NodeRecord } from "../node-record.ts";
import type { RolloutRecord } from "../rollout-record.ts";
import { holdDeadline } from "./deadline-lease.ts";
import { type DriveContext, type DriveResult, driveRollout } from "./drive-rollout.ts";
import { GroupWatch } from "./group-watch.ts";
import { planWaves } from "./plan-waves.ts";
import { lockTtlS, takeRolloutLock } from "./rollout-lock.ts";
import { createRollout, updateRollout } from "./update-rollout.ts";

export interface NewRollout {
  /** the desired record to roll out (desiredFromStore), without generation */
  target: Omit<DesiredRecord, "generation">;
  options: RolloutRecord["options"];
  /** shown the record before it is written: false stops (nothing written) */
  confirm(record: RolloutRecord): Promise<boolean>;
}

export interface RunRollout {
  client: Etcd3;
  group: string;
  timeoutMs: number;
  /** undefined: --resume */
  start?: NewRollout;
  event: DriveContext["event"];
  waveEnd(record: RolloutRecord, wave: number, nodes: NodeRecord[]): void;
}

const ACTIVE = ["running", "reverting"];

export async function runRollout(run: RunRollout): Promise<DriveResult & { nodes: NodeRecord[] }> {
  const { client, group } = run;
  // One read with a deadline first: an etcd that does not answer fails the command (etcd-unavailable)
  // instead of a watch that waits for it without end.
  await client.get(desiredKey(group)).string();
  const watch = await GroupWatch.open(client, group);
  try {
    const existing = watch.rollout?.record;
    let deadlineS: number;
    if (run.start) deadlineS = run.start.options.deadlineS;
    else if (existing) deadlineS = existing.options.deadlineS;
    else throw new UserError(`group ${group} has no rollout to resume. Fix: start one: \`relup fleet rollout REL --plan P --store URL --fleet … --group ${group}\`.`, ExitCode.badInput);
    const ttlS = lockTtlS(deadlineS);
    const lock = await takeRolloutLock(client, group, { ttlS, ...(run.start ? {} : { waitMs: ttlS * 1000 + 2_000 }) });
    let ended = false;
    let deadline: Awaited<ReturnType<typeof holdDeadline>> | undefined;
    try {
      const current = watch.rollout;
      if (run.start) {
        if (current && ACTIVE.includes(current.record.state)) {
          throw new UserError(`group ${group} has a rollout ${current.record.state}: ${current.record.id}, ${current.record.release.name} ${current.record.release.version}, started ${current.record.started}. Fix: \`relup fleet rollout --resume --fleet … --group ${group}\` drives it on (or see \`relup fleet status\`).`, ExitCode.checkFailed);
        }
        await awaitHealth(watch, group, run.event);
        const record = await newRecord(client, watch, group, run.start);
        if (!(await run.start.confirm(record))) throw new UserError("not started: not confirmed. Nothing was written.", ExitCode.checkFailed);
        deadline = await holdDeadline(client, group, record.id, record.options.deadlineS);
        if (!(await createRollout(client, watch, record, current?.modRevision))) {
          throw new UserError(`${group}: the rollout record was written by someone else meanwhile. Nothing was started. Fix: see \`relup fleet status\`, then run the command again.`, ExitCode.checkFailed);
        }
        run.event(`rollout ${record.id}: ${record.release.name} ${record.from.version} → ${record.release.version}, ${record.waves.length} wave${record.waves.length === 1 ? "" : "s"}: ${record.waves.map((w) => w.nodes.join(" ")).join(" | ")}`);
      } else {
        if (!current) throw new UserError(`group ${group} has no rollout to resume.`, ExitCode.badInput);
        if (ACTIVE.includes(current.record.state)) {
          if (current.record.state === "running") deadline = await holdDeadline(client, group, current.record.id, current.record.options.deadlineS);
          await updateRollout(client, watch, (r) => ({ ...r, driver: { host: os.hostname(), pid: process.pid } }));
          const at = current.record.waves.findIndex((w) => w.state !== "passed");
          run.event(`resuming rollout ${current.record.id} (${current.record.state}${at >= 0 ? `, at wave ${at}: ${current.record.waves[at]!.state}` : ""})`);
        } else {
          run.event(`rollout ${current.record.id} has ended: ${current.record.state}`);
        }
      }
      const result = await driveRollout({ client, watch, timeoutMs: run.timeoutMs, event: run.event, waveEnd: (record, wave) => run.waveEnd(record, wave, [...watch.nodes.values()]) });
      ended = !ACTIVE.includes(result.record.state);
      return { ...result, nodes: [...watch.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)) };
    } finally {
      // Ended: the deadline goes now. Stopped midway (an error): it expires by itself unless resumed.
      if (ended) await deadline?.release().catch(() => undefined);
      else deadline?.abandon();
      await lock.release().catch(() => undefined);
    }
  } finally {
    await watch.close();
  }
}

async function newRecord(client: Etcd3, watch: GroupWatch, group: string, start: NewRollout): Promise<RolloutRecord> {
  const nodes = [...watch.nodes.values()];
  if (nodes.length === 0) throw new UserError(`group ${group} has no registered node to roll ${start.target.release.name} ${start.target.release.version} out to. Fix: start the nodes with \`relup start … --fleet … --group ${group}\`, or check the group's name with \`relup fleet status\`.`, ExitCode.checkFailed);
  const desiredText = await client.get(desiredKey(group)).string();
  const desired = desiredText === null ? undefined : DesiredRecord.safeParse(JSON.parse(desiredText));
  const running = nodes.map((n) => n.release?.version).filter((v): v is string => v !== undefined);
  const fromVersion = desired?.success ? desired.data.release.version : mostCommon(running);
  if (fromVersion === undefined) throw new UserError(`group ${group}: no node reports the release it runs yet. Fix: wait until the nodes are running (\`relup fleet status\`).`, ExitCode.checkFailed);
  if (fromVersion === start.target.release.version && running.every((v) => v === fromVersion)) {
    throw new UserError(`group ${group} already runs ${start.target.release.name} ${fromVersion}: nothing to roll out.`, ExitCode.badInput);
  }
  checkPlanFrom(group, start.target, fromVersion, desired?.success ? `its desired release (${desiredKey(group)})` : `what its nodes run`);
  const baseline: RolloutRecord["baseline"] = {};
  for (const node of nodes) if (node.health) baseline[node.id] = node.health;
  const now = new Date().toISOString();
  const { target } = start;
  return {
    format: 1,
    id: `${now.slice(0, 19).replace(/[-:T]/g, "").toLowerCase()}-${randomBytes(4).toString("hex")}`,
    group,
    release: target.release,
    url: target.url,
    ...(target.signatureUrl !== undefined ? { signatureUrl: target.signatureUrl } : {}),
    plan: target.plan,
    from: { version: fromVersion },
    options: start.options,
    state: "running",
    waves: planWaves(nodes.map((n) => n.id), start.options.canary, start.options.waves).map((ids) => ({ nodes: ids, state: "pending" as const })),
    baseline,
    started: now,
    updated: now,
    driver: { host: os.hostname(), pid: process.pid },
  };
}

/** How long a new rollout waits for every node's first health read: its baseline (agents read every 5 s). */
export const BASELINE_WAIT_MS = 30_000;

/** Every registered node must have published its health: the soak compares each node with it. */
async function awaitHealth(watch: GroupWatch, group: string, event: RunRollout["event"]): Promise<void> {
  const missing = () => [...watch.nodes.values()].filter((n) => n.health === undefined).map((n) => n.id);
  if (missing().length === 0) return;
  event(`waiting for the first health read of ${missing().join(", ")} (the baseline of the soak)`);
  const outcome = await watch.until(() => (missing().length === 0 ? true : undefined), BASELINE_WAIT_MS);
  if (outcome === "timeout") {
    throw new UserError(`group ${group}: ${missing().join(", ")} published no health within ${BASELINE_WAIT_MS / 1000} s, so a soak could not judge ${missing().length === 1 ? "it" : "them"}. Nothing was written. Fix: check that those nodes run (\`relup fleet status --fleet … --group ${group}\`) with a launcher of this relup version, then run the command again.`, ExitCode.checkFailed);
  }
}

/** An inline plan must lead from the release the group runs to the one rolled out (or back): a plan of other versions would fail on every node. */
function checkPlanFrom(group: string, target: NewRollout["target"], fromVersion: string, source: string): void {
  if (!("inline" in target.plan)) return;
  const plan = target.plan.inline;
  const versions = [plan.from.version, plan.to.version].sort().join(" ");
  if (versions === [fromVersion, target.release.version].sort().join(" ")) return;
  throw new UserError(
    `--plan: is the plan of ${plan.release} ${plan.from.version} → ${plan.to.version}, but group ${group} runs ${target.release.name} ${fromVersion} (${source}), so it cannot take the group to ${target.release.version}. Nothing was written. Fix: give the plan from ${fromVersion} to ${target.release.version}: \`relup generate _build/${target.release.name}-${fromVersion}.tar.gz _build/${target.release.name}-${target.release.version}.tar.gz -o plans/\`.`,
    ExitCode.badInput,
  );
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}
