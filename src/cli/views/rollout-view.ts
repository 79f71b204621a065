/**
 * A group's rollout for people (`relup fleet rollout`, `relup fleet status`): its state and reason, the
 * waves with their nodes and states, and each node of the rollout with its release, status and what it
 * reported about this rollout.
 */
import type { NodeRecord } from "../../fleet/node-record.ts";
import type { RolloutRecord } from "../../fleet/rollout-record.ts";
import { reportOf, waveName } from "../../fleet/rollout/drive-rollout.ts";

export function renderRollout(record: RolloutRecord, nodes: readonly NodeRecord[]): string {
  const out = [`rollout ${record.id} of group ${record.group}: ${record.release.name} ${record.from.version} → ${record.release.version}: ${record.state}`];
  if (record.reason !== undefined) out.push(`reason: ${record.reason}`);
  const o = record.options;
  out.push(`options: canary ${o.canary}, waves ${o.waves}, soak ${o.soakMs} ms, max unavailable ${o.maxUnavailable}${o.barrier ? `, barrier (timeout ${o.barrierTimeoutMs} ms)` : ""}, deadline ${o.deadlineS} s${o.healthPath ? `, health ${o.healthPath}` : ""}${o.loopSlackMs !== undefined && o.loopSlackMs !== 50 ? `, loop slack ${o.loopSlackMs} ms` : ""}`);
  if (record.driver) out.push(`driver: pid ${record.driver.pid} on ${record.driver.host}; started ${record.started}, updated ${record.updated}`);
  out.push("", ...table([["WAVE", "STATE", "NODES"], ...record.waves.map((w, i) => [waveName(record, i), w.state + (w.barrier ? ` (barrier ${w.barrier})` : ""), w.nodes.join(", ")])]));
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rows = [["NODE", "WAVE", "RELEASE", "STATUS", "ROLLOUT"]];
  for (const [i, wave] of record.waves.entries()) {
    for (const id of wave.nodes) {
      const node = byId.get(id);
      const report = reportOf(node, record);
      rows.push([id, String(i), node?.release ? `${node.release.name} ${node.release.version}` : "-", node ? node.status : "gone", report ? report.state : "-"]);
    }
  }
  out.push("", ...table(rows));
  for (const [i, wave] of record.waves.entries()) {
    for (const id of wave.nodes) {
      const failure = reportOf(byId.get(id), record)?.failure;
      if (failure !== undefined) out.push("", `${id} (wave ${i}) ${reportOf(byId.get(id), record)!.state}:`, failure);
    }
  }
  return out.join("\n") + "\n";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd());
}
