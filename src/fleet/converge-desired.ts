/**
 * The node agent's rule for the group's desired record (desired-record.ts), when no rollout rule applies
 * to the node (rollout-step.ts): converge the node to the desired release.
 *
 * 1. the node already runs that version: the record says running, with the desire's generation;
 * 2. otherwise `fetching`, then `applying` (install-pinned.ts: the pin from etcd, the trusted keys, the
 *    plan; installed live, not permanent);
 * 3. `running` on the new release, or `failed` with the issue as its formatter words it. A failed
 *    generation is not tried again by this launcher (its report says so): a new desire is.
 */
import type { FleetConfig } from "./fleet-config.ts";
import type { FleetMember } from "./fleet-member.ts";
import { type DesiredRecord, desiredKey, pinOfDesired } from "./desired-record.ts";
import { installPinned } from "./install-pinned.ts";
import type { TrustedKeys } from "./signing-keys.ts";

export interface ConvergeContext {
  config: FleetConfig;
  root: string;
  member: FleetMember;
  trusted?: TrustedKeys;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/** Converge the node, which runs `running`, to `desired`; reports in the node record, never throws. */
export async function convergeDesired(context: ConvergeContext, desired: DesiredRecord, running: { name: string; version: string }): Promise<void> {
  const { member, root, log, config } = context;
  const { name, version } = desired.release;
  const generation = desired.generation;
  const report = member.record.desired;
  if (report?.generation === generation && report.failure !== undefined) return;
  try {
    if (running.name !== name) throw new Error(`the group's desired release is ${name} ${version}, but this node runs ${running.name}: a node runs one release. Fix: start this node in the group of ${running.name}, or desire a version of ${running.name} for group ${config.group}`);
    if (running.version === version) {
      member.report("running", { release: { name, version }, desired: { generation, version } });
      log("fleet desired release running", { generation, release: `${name} ${version}` });
      return;
    }
    member.report("fetching", { desired: { generation, version } });
    log("fleet fetching", { generation, release: `${name} ${version}`, url: desired.url });
    const applied = await installPinned({
      root,
      source: desired,
      pinnedBy: pinOfDesired(desired, config.group).source,
      inlinePlanFrom: `${desiredKey(config.group)} (inline)`,
      ...(context.trusted ? { trusted: context.trusted } : {}),
      log,
      applying: () => {
        member.report("applying", { desired: { generation, version } });
        log("fleet applying", { generation, release: `${name} ${version}`, from: running.version });
      },
    });
    member.report("running", { release: { name, version: applied.to }, desired: { generation, version } });
    log("fleet desired release running", { generation, release: `${name} ${applied.to}`, from: applied.from });
  } catch (error) {
    const failure = (error as Error).message;
    member.report("failed", { desired: { generation, version, failure } });
    log("fleet desired release failed", { generation, release: `${name} ${version}`, error: failure });
  }
}
