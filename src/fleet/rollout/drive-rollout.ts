/**
 * The driver's loop: it takes the rollout record where it is (the wave states say where: a fresh record,
 * or one left by a driver that stopped) and drives it to its end, writing every step into the record
 * (update-rollout.ts) and waiting on the group's records (group-watch.ts), never on a timer but for the
 * soak's end and the timeouts. Per wave: (--barrier: preparing → released | aborted) → installing, every
 * node's report → soaking, the health rule (compare-health.ts) over every upgraded node → passed. Any
 * failure → reverting with the reason → every upgraded node back → reverted. All passed → the group's
 * desired record names the release (next generation) → succeeded → every node makes it permanent.
 */
import type { Etcd3 } from "etcd3";
import { writeDesired } from "../desire-release.ts";
import type { NodeRecord } from "../node-record.ts";
import type { RolloutRecord, RolloutWave } from "../rollout-record.ts";
import { compareHealth } from "./compare-health.ts";
import type { GroupWatch } from "./group-watch.ts";
import { retryEtcd } from "./retry-etcd.ts";
import { updateRollout } from "./update-rollout.ts";

export interface DriveContext {
  client: Etcd3;
  watch: GroupWatch;
  /** how long each wave's nodes have to report their install (and the revert, and permanence) */
  timeoutMs: number;
  /** one line per event, as it happens */
  event(line: string): void;
  /** a wave ended (passed, failed or aborted) */
  waveEnd(record: RolloutRecord, wave: number): void;
}

export interface DriveResult {
  record: RolloutRecord;
  /** nodes that did not report `permanent` after a success, in time */
  notPermanent: string[];
}

type Report = NonNullable<NodeRecord["rollout"]>;

/** The node's report about this rollout (its record's `rollout` field, when it is about this rollout's id). */
export function reportOf(node: NodeRecord | undefined, record: RolloutRecord): Report | undefined {
  return node?.rollout?.id === record.id ? node.rollout : undefined;
}

export function waveName(record: RolloutRecord, index: number): string {
  return index === 0 && record.options.canary > 0 ? "wave 0 (canary)" : `wave ${index}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export async function driveRollout(ctx: DriveContext): Promise<DriveResult> {
  const { watch } = ctx;
  const current = () => watch.rollout!.record;
  // etcd briefly away: tried again for as long as the deadline gives (after it, the agents revert by themselves).
  const patience = () => current().options.deadlineS * 1000;
  const update = (change: (r: RolloutRecord) => RolloutRecord | undefined) => retryEtcd(() => updateRollout(ctx.client, watch, change), patience(), ctx.event);
  const seen = new Map<string, string>();
  /** A line per change of a node of the rollout: status, release, report. */
  const noteNodes = () => {
    const r = current();
    for (const id of r.waves.flatMap((w) => w.nodes)) {
      const node = watch.nodes.get(id);
      const report = reportOf(node, r);
      const line = node ? `${id}: ${node.status}, runs ${node.release?.version ?? "-"}${report ? `, rollout ${report.state}${report.failure ? ` (${report.failure.split("\n")[0]})` : ""}` : ""}` : `${id}: gone (no record)`;
      if (seen.get(id) !== line) ctx.event(line);
      seen.set(id, line);
    }
  };
  const stopped = () => current().state !== "running";
  /** Nodes of the rollout without a live, running node: over --max-unavailable is a reason to revert. */
  const unavailable = (): string | undefined => {
    const r = current();
    const away = r.waves.flatMap((w) => w.nodes).filter((id) => {
      const node = watch.nodes.get(id);
      // `failed` is the agent's last attempt that failed (an earlier desire, say): the node serves on, so it
      // is available; a failure of this rollout's install is its report's, handled per wave.
      return !node || node.status === "restarting";
    });
    if (away.length > r.options.maxUnavailable) return `${plural(away.length, "node")} unavailable (${away.join(", ")}), more than --max-unavailable ${r.options.maxUnavailable}`;
    return undefined;
  };
  /** A node's health reads since it reported the release installed, but the first: its interval covers the install's own pause. */
  const comparedReads = (id: string, r: RolloutRecord) => {
    const baseline = r.baseline[id];
    if (!baseline) return [];
    const report = reportOf(watch.nodes.get(id), r);
    const installedAt = report?.state === "installed" || report?.state === "permanent" ? report.since : baseline.at;
    return (watch.health.get(id) ?? []).filter((h) => h.at > baseline.at && h.at > installedAt).slice(1);
  };
  /** The wave's nodes still registered that the soak has not judged by one read yet. */
  const unjudged = (index: number) => {
    const r = current();
    return r.waves[index]!.nodes.filter((id) => watch.nodes.has(id) && comparedReads(id, r).length === 0);
  };
  const setWave = (index: number, change: Partial<RolloutWave>) =>
    update((r) => (r.state !== "running" ? undefined : { ...r, waves: r.waves.map((w, i) => (i === index ? { ...w, ...change } : w)) }));

  const driveWave = async (index: number): Promise<string | undefined> => {
    let r = current();
    const name = waveName(r, index);
    const ids = r.waves[index]!.nodes;
    if (r.waves[index]!.state === "pending") {
      r = await update((x) => {
        if (x.state !== "running") return undefined;
        // The wave's baseline: each node's health now, before its upgrade.
        const baseline = { ...x.baseline };
        for (const id of ids) {
          const health = watch.nodes.get(id)?.health;
          if (health) baseline[id] = health;
        }
        const start: Partial<RolloutWave> = x.options.barrier ? { state: "preparing", barrier: "prepare" } : { state: "installing" };
        return { ...x, baseline, waves: x.waves.map((w, i) => (i === index ? { ...w, ...start, started: new Date().toISOString() } : w)) };
      });
      if (r.state !== "running") return undefined;
      ctx.event(`${name}: ${ids.join(", ")}: ${r.options.barrier ? "preparing (barrier: each node prepares and holds before the point of no return)" : `installing ${r.release.name} ${r.release.version}`}`);
    }
    if (r.waves[index]!.state === "preparing") {
      const barrierMs = r.options.barrierTimeoutMs;
      const outcome = await watch.until<{ go: string | undefined } | { abort: string } | { stop: true }>(() => {
        noteNodes();
        if (stopped()) return { stop: true };
        const now = current();
        for (const id of ids) {
          const node = watch.nodes.get(id);
          const report = reportOf(node, now);
          if (!node) return { abort: `${id} is gone (its record expired) while the barrier waited` };
          if (report?.state === "failed" || report?.state === "aborted") {
            // A node that prepared gives up on its own timeout: name the nodes it waited for, not only it.
            const unprepared = ids.filter((other) => !["prepared", "installed", "failed", "aborted"].includes(reportOf(watch.nodes.get(other), now)?.state ?? ""));
            const cause = report.state === "aborted" && unprepared.length > 0 ? `${unprepared.join(", ")} did not prepare; ` : "";
            return { abort: `${cause}${id} ${report.state} at the barrier${report.failure ? `: ${report.failure}` : ""}` };
          }
        }
        if (!ids.every((id) => ["prepared", "installed"].includes(reportOf(watch.nodes.get(id), now)?.state ?? ""))) return undefined;
        const points = new Set(ids.map((id) => reportOf(watch.nodes.get(id), now)?.barrier));
        return { go: points.size === 1 ? [...points][0] : undefined };
      }, barrierMs + 2_000);
      if (outcome !== "timeout" && "stop" in outcome) return undefined;
      if (outcome !== "timeout" && "go" in outcome) {
        r = await setWave(index, { state: "released", barrier: "go", ...(outcome.go !== undefined ? { barrierId: outcome.go } : {}) });
        ctx.event(`${name}: every node prepared${outcome.go !== undefined ? ` at ${outcome.go}` : ""}: barrier go`);
      } else {
        const reason = outcome === "timeout" ? `${ids.filter((id) => reportOf(watch.nodes.get(id), current())?.state !== "prepared").join(", ")} did not prepare within --barrier-timeout ${barrierMs} ms` : outcome.abort;
        await setWave(index, { state: "aborted", barrier: "abort" });
        ctx.event(`${name}: barrier abort: ${reason}`);
        ctx.waveEnd(current(), index);
        return `${name}: the barrier aborted: ${reason}`;
      }
    }
    if (r.waves[index]!.state === "installing" || r.waves[index]!.state === "released") {
      const deadline = Date.now() + ctx.timeoutMs;
      let outcome: { ok: true } | { fail: string } | { stop: true } | { point: string } | "timeout";
      for (;;) {
        outcome = await watch.until<{ ok: true } | { fail: string } | { stop: true } | { point: string }>(() => {
          noteNodes();
          if (stopped()) return { stop: true };
          const now = current();
          const away = unavailable();
          if (away) return { fail: away };
          for (const id of ids) {
            const report = reportOf(watch.nodes.get(id), now);
            if (report?.state === "failed" || report?.state === "aborted") return { fail: `${id} ${report.state === "failed" ? "failed to install" : "aborted"} ${now.release.version}${report.failure ? `: ${report.failure}` : ""}` };
          }
          // Every node of the wave holds at the same barrier point (a plan's sync_nodes): release them together.
          const held = ids.map((id) => watch.nodes.get(id)).filter((n): n is NodeRecord => n !== undefined && n.status !== "restarting");
          const points = new Set(held.map((n) => reportOf(n, now)).map((rep) => (rep?.state === "prepared" ? rep.barrier : undefined)));
          const point = points.size === 1 ? [...points][0] : undefined;
          const wave = now.waves[index]!;
          if (held.length > 0 && point !== undefined && !(wave.barrier === "go" && wave.barrierId === point)) return { point };
          return ids.every((id) => installedOrAway(watch.nodes.get(id), now)) ? { ok: true } : undefined;
        }, deadline - Date.now());
        if (outcome === "timeout" || !("point" in outcome)) break;
        r = await setWave(index, { barrier: "go", barrierId: outcome.point });
        ctx.event(`${name}: every node holds at barrier ${outcome.point}: go`);
      }
      if (outcome !== "timeout" && "stop" in outcome) return undefined;
      if (outcome === "timeout" || "fail" in outcome) {
        const reason = outcome === "timeout" ? `${ids.filter((id) => !installedOrAway(watch.nodes.get(id), current())).join(", ")} did not report ${current().release.version} installed within --timeout ${ctx.timeoutMs / 1000} s` : outcome.fail;
        await setWave(index, { state: "failed" });
        ctx.waveEnd(current(), index);
        return `${name}: ${reason}`;
      }
      r = await setWave(index, { state: "soaking", soakUntil: new Date(Date.now() + r.options.soakMs).toISOString() });
      ctx.event(`${name}: installed on ${ids.filter((id) => watch.nodes.has(id)).join(", ")}; soaking ${r.options.soakMs} ms`);
    }
    if (r.waves[index]!.state === "soaking") {
      const until = Date.parse(r.waves[index]!.soakUntil ?? new Date().toISOString());
      const check = (): { fail: string } | { stop: true } | undefined => {
        noteNodes();
        if (stopped()) return { stop: true };
        const now = current();
        // Every node upgraded so far (this wave and the earlier ones) against its baseline; then the others' availability.
        for (const id of now.waves.slice(0, index + 1).flatMap((w) => w.nodes)) {
          const node = watch.nodes.get(id);
          if (node?.status === "restarting") return { fail: `regression: ${id}'s node died on ${now.release.version} (its launcher restarts it)` };
          const baseline = now.baseline[id];
          if (!node || !baseline) continue;
          const reads = comparedReads(id, now);
          const pid = node.nodePid !== null && node.nodePid !== baseline.nodePid ? `${id} restarted (pid ${baseline.nodePid} → ${node.nodePid})` : undefined;
          const regression = pid ?? compareHealth(id, baseline, reads, now.options.soakMs, { rolloutId: now.id, loopSlackMs: now.options.loopSlackMs });
          if (regression) return { fail: `regression: ${regression}` };
        }
        const away = unavailable();
        return away ? { fail: away } : undefined;
      };
      const outcome = (await watch.until(check, until - Date.now())) ?? "timeout";
      let last = outcome === "timeout" ? check() : outcome;
      if (!last && unjudged(index).length > 0) {
        // The soak's time is over, but a node of the wave published no health read since its install yet
        // (its agent reads every few seconds): the soak goes on until each was judged at least once.
        ctx.event(`${name}: soak over; waiting for a health read from ${unjudged(index).join(", ")} since its install`);
        const judged = await watch.until(() => check() ?? (unjudged(index).length === 0 ? { judged: true as const } : undefined), ctx.timeoutMs);
        if (judged === "timeout") last = { fail: `no health read from ${unjudged(index).join(", ")} since its install within --timeout ${ctx.timeoutMs / 1000} s: the soak cannot judge it` };
        else if (!("judged" in judged)) last = judged;
      }
      if (last && "stop" in last) return undefined;
      if (last) {
        await setWave(index, { state: "failed" });
        ctx.event(`${name}: ${last.fail}`);
        ctx.waveEnd(current(), index);
        return `${name}: ${last.fail}`;
      }
      await setWave(index, { state: "passed" });
      ctx.event(`${name}: passed its soak`);
      ctx.waveEnd(current(), index);
    }
    return undefined;
  };

  while (current().state === "running") {
    const index = current().waves.findIndex((w) => w.state !== "passed");
    if (index < 0) {
      const r = current();
      const desired = await retryEtcd(() => writeDesired(ctx.client, r.group, { format: 1, release: r.release, url: r.url, ...(r.signatureUrl !== undefined ? { signatureUrl: r.signatureUrl } : {}), plan: r.plan, source: `rollout ${r.id}`, since: new Date().toISOString() }), patience(), ctx.event);
      ctx.event(`every wave passed: ${r.release.name} ${r.release.version} is the desired release of group ${r.group} (generation ${desired.generation})`);
      await update((x) => (x.state === "running" ? { ...x, state: "succeeded" } : undefined));
      break;
    }
    const reason = await driveWave(index);
    if (reason !== undefined) {
      await update((x) => (x.state === "running" ? { ...x, state: "reverting", reason } : undefined));
    }
  }

  if (current().state === "reverting") {
    ctx.event(`reverting: ${current().reason ?? ""}`);
    const outcome = await watch.until(() => {
      noteNodes();
      const r = current();
      if (r.state !== "reverting") return true;
      return r.waves.flatMap((w) => w.nodes).every((id) => !stillUpgraded(watch.nodes.get(id), r)) ? true : undefined;
    }, ctx.timeoutMs);
    const r = current();
    if (r.state === "reverting") {
      const left = r.waves.flatMap((w) => w.nodes).filter((id) => stillUpgraded(watch.nodes.get(id), r));
      if (outcome === "timeout" || left.length > 0) {
        const failedOnes = left.map((id) => `${id} (${reportOf(watch.nodes.get(id), r)?.failure?.split("\n")[0] ?? `still ${reportOf(watch.nodes.get(id), r)?.state ?? "upgraded"}`})`);
        await update((x) => (x.state === "reverting" ? { ...x, state: "failed", reason: `${x.reason ?? "reverting"}; the revert did not complete on ${failedOnes.join(", ")}` } : undefined));
      } else {
        await update((x) => (x.state === "reverting" ? { ...x, state: "reverted" } : undefined));
      }
    }
    ctx.event(`${current().state}: ${current().reason ?? ""}`);
  }

  const notPermanent: string[] = [];
  if (current().state === "succeeded") {
    const r = current();
    const pending = () => r.waves.flatMap((w) => w.nodes).filter((id) => {
      const node = watch.nodes.get(id);
      return node !== undefined && node.release?.version === r.release.version && reportOf(node, r)?.state !== "permanent";
    });
    await watch.until(() => {
      noteNodes();
      return pending().length === 0 ? true : undefined;
    }, ctx.timeoutMs);
    notPermanent.push(...pending());
    ctx.event(`succeeded: ${r.release.name} ${r.release.version}${notPermanent.length > 0 ? `; ${notPermanent.join(", ")} did not report it permanent within --timeout` : " is permanent on every node"}`);
  }
  return { record: current(), notPermanent };
}

/** Done with its wave's install: reported installed and runs the release, or unavailable (counted by --max-unavailable). */
function installedOrAway(node: NodeRecord | undefined, record: RolloutRecord): boolean {
  if (!node || node.status === "restarting") return true;
  const report = reportOf(node, record);
  return (report?.state === "installed" || report?.state === "permanent") && node.release?.version === record.release.version;
}

/** Still runs what this rollout installed (or is installing it): a revert waits for it. */
function stillUpgraded(node: NodeRecord | undefined, record: RolloutRecord): boolean {
  const report = reportOf(node, record);
  if (!node || !report) return false;
  if (report.state === "installing" || report.state === "prepared") return true;
  // installed, reverting, or a rollback that failed: while the node still runs the new release
  return ["installed", "reverting", "failed"].includes(report.state) && node.release?.version === record.release.version;
}
