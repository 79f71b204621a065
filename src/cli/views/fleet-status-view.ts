/** `relup fleet status` for people: one line per node of the group, the records that do not parse, then why failed nodes failed. */
import type { GroupListing } from "../../fleet/list-group.ts";

export function renderFleetStatus(listing: GroupListing, now = Date.now()): string {
  if (listing.nodes.length === 0 && listing.unreadable.length === 0) return `group ${listing.group}: no node is registered\n`;
  const rows = [["NODE", "HOST", "RELEASE", "STATUS", "SINCE", "PID"]];
  for (const node of listing.nodes) {
    rows.push([node.id, node.host, node.release ? `${node.release.name} ${node.release.version}` : "-", node.status, ago(node.since, now), node.nodePid !== null ? String(node.nodePid) : "-"]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
  const count = listing.nodes.length;
  const out = [`group ${listing.group}: ${count} node${count === 1 ? "" : "s"}`, ...lines];
  for (const bad of listing.unreadable) out.push(`unreadable record ${bad.key}: ${bad.problem}`);
  // Why a node's agent could not install the group's desired release (it runs on its release).
  for (const node of listing.nodes) {
    if (node.status === "failed" && node.desired?.failure !== undefined) out.push("", `${node.id} failed to converge to ${node.desired.version} (desired generation ${node.desired.generation}):`, node.desired.failure);
  }
  return out.join("\n") + "\n";
}

function ago(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}
