/**
 * Words for a plan: one line per low-level instruction, one per high-level instruction, and the
 * one-line summary. Shared by the text and Markdown views, so both say the same thing.
 */
import { assertNever } from "../../errors.ts";
import type { AppupInstruction, PurgeMethod } from "../../appup/instruction.ts";
import type { Plan } from "../generate-plan.ts";
import type { PackageChange } from "../package-changes.ts";
import semver from "semver";
import type { Instruction } from "../instruction.ts";

const q = (s: string) => `\`${s}\``;
const list = (xs: readonly string[]) => xs.map(q).join(", ");
export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

/** Supervisors among the modules a plan changes: their code_change re-reads child specs, it migrates no user state. */
export function supervisorsOf(plan: Plan): Set<string> {
  return new Set(plan.diff.changed.flatMap((app) => app.changed.filter((c) => c.to.behaviour === "supervisor").map((c) => `${app.name}/${c.to.name}`)));
}

/** Modules loaded again only because npm packages they reach change, and the release they are read from. */
export interface PackageReloads {
  release: string;
  modules: ReadonlySet<string>;
}

/** Each step of a script in words; loads name the version whose code load_object_code read. */
export function describeScript(script: readonly Instruction[], supervisors: ReadonlySet<string> = new Set(), reloads?: PackageReloads): string[] {
  const versions = new Map(script.flatMap((i) => (i.op === "load_object_code" ? [[i.application, i.version] as const] : [])));
  const removed = new Map(script.flatMap((i) => (i.op === "remove" ? [[i.module, i.postPurge] as const] : [])));
  return script.map((i) => {
    const text = describeInstruction(i, versions, supervisors, removed);
    if (!reloads) return text;
    if (i.op === "load" && reloads.modules.has(i.module)) return `${text}, from release ${reloads.release}: the same code, whose npm packages change`;
    if (i.op === "load_object_code" && i.modules.some((m) => reloads.modules.has(`${i.application}/${m}`))) return text.replace(`${i.application} ${i.version}:`, `${i.application} ${i.version} from release ${reloads.release}:`);
    return text;
  });
}

/** An application whose version stays: `unchanged`, or the modules reloaded in it for npm packages. */
export function unchangedApp(plan: Plan, app: string): string {
  const reloaded = [...hotReloads(plan)].filter((m) => m.startsWith(`${app}/`)).sort();
  return reloaded.length === 0 ? "unchanged" : `unchanged code; ${list(reloaded)} reloaded: npm packages ${reloaded.length > 1 ? "they reach" : "it reaches"} change`;
}

/** The package reloads of one direction of a plan: up reads the target release, down the running one. */
export function packageReloadsOf(plan: Plan, mode: "up" | "down"): PackageReloads | undefined {
  const modules = hotReloads(plan);
  if (modules.size === 0) return undefined;
  return { release: mode === "up" ? plan.file.to.version : plan.file.from.version, modules };
}

/** The modules a plan reloads for npm packages: none when it restarts the node instead. */
function hotReloads(plan: Plan): Set<string> {
  return restartsNode(plan) ? new Set() : new Set(plan.diff.npm.reloads.keys());
}

/** Whether the plan restarts the node (restart_new_emulator) rather than upgrading hot. */
function restartsNode(plan: Plan): boolean {
  return plan.file.up.some((i) => i.op === "restart_new_emulator");
}

/** Each npm package change of the plan, with its line in words (describePackageChange). */
export function packageChangeLines(plan: Plan): { change: PackageChange; text: string }[] {
  return plan.diff.npm.changes.map((change) => ({ change, text: describePackageChange(change, restartsNode(plan), plan.diff.npm.withoutMetadata) }));
}

export function describeInstruction(
  i: Instruction,
  versions: ReadonlyMap<string, string> = new Map(),
  supervisors: ReadonlySet<string> = new Set(),
  /** module → the postPurge of its remove in the same script */
  removed: ReadonlyMap<string, PurgeMethod> = new Map(),
): string {
  switch (i.op) {
    case "restart_new_emulator":
      return "restart the node on the target release (not hot: listening sockets are handed over, in-memory state is not)";
    case "load_object_code":
      return `read and compile ${i.application} ${i.version}: ${list(i.modules)} (changes nothing yet)`;
    case "point_of_no_return":
      return "point of no return: from here the running code changes (a failure still rolls back in memory)";
    case "sync_nodes":
      return `barrier ${q(i.id)}: in a fleet rollout, wait until every node of the wave reaches it, at most ${i.timeoutMs} ms (then abort, rolled back in memory); a plain apply passes it at once`;
    case "suspend":
      return `suspend the processes using ${list(i.modules)}; their messages queue up${i.timeout !== undefined ? ` (timeout ${i.timeout === "infinity" ? "none" : `${i.timeout} ms`})` : ""}`;
    case "load":
      return `load the ${versions.get(i.module.split("/")[0]!) ?? "new"} code of ${q(i.module)}`;
    case "remove":
      return `remove ${q(i.module)} (its code becomes old)`;
    case "purge": {
      const gone = i.modules.filter((m) => removed.has(m));
      if (gone.length === 0) return `purge the old code of ${list(i.modules)}`;
      const soft = gone.filter((m) => removed.get(m) === "soft_purge");
      const brutal = gone.filter((m) => removed.get(m) !== "soft_purge");
      const fates = [
        ...(brutal.length > 0 ? [`processes still running ${brutal.length === gone.length ? "it" : list(brutal)} are killed`] : []),
        ...(soft.length > 0 ? [`a process still running ${soft.length === gone.length ? "it" : list(soft)} makes it refuse (soft_purge)`] : []),
      ];
      return `purge the old code of ${list(i.modules)} (${fates.join("; ")})`;
    }
    case "code_change":
      if (i.modules.every((m) => supervisors.has(m.module))) return `supervisor${i.modules.length > 1 ? "s" : ""} ${list(i.modules.map((m) => m.module))} re-read${i.modules.length > 1 ? "" : "s"} child specs from the loaded code: new children start, removed ones stop`;
      return `migrate the state of every suspended process of ${i.modules.map((m) => `${q(m.module)}${m.extra === null || isEmpty(m.extra) ? "" : ` (extra ${JSON.stringify(m.extra)})`}${m.timeout === undefined ? "" : ` (codeChange timeout ${m.timeout === "infinity" ? "none" : `${m.timeout} ms`})`}`).join(", ")} with codeChange ${i.mode === "up" ? "(up, from the old vsn)" : "(down, before the older code is loaded)"}`;
    case "resume":
      return `resume the processes using ${list(i.modules)}, queued messages first`;
    case "stop":
      return `stop the supervised processes using ${list(i.modules)} through their supervisors (terminate runs)`;
    case "start":
      return `start again the processes using ${list(i.modules)}, in their place`;
    case "apply":
      if (i.module === "application" && i.function === "set_env_defaults") return `env defaults of ${q(String(i.args[0]))} change now, before any code: ${describeEnv(i.args)} (a key set in the root's config.json keeps its value)`;
      if (i.module === "application" && i.function === "config_change" && i.args.length === 1) return `tell ${q(String(i.args[0]))} which env keys changed value (its start module's configChange, in the code now loaded)`;
      return `call ${i.module}.${i.function}(${i.args.map((a) => JSON.stringify(a)).join(", ")})`;
    default:
      return assertNever(i);
  }
}

/** A high-level instruction in words; `oldEnv` lets an env change show old → new values. */
export function describeAppupInstruction(i: AppupInstruction, oldEnv: Record<string, unknown> = {}): string {
  switch (i.op) {
    case "load_module":
      return `load_module ${q(i.module)}: no process state; the next call through the module runs the new code`;
    case "update":
      if (i.change === "supervisor") return `update ${q(i.module)} (supervisor): suspend it, load, re-read its child specs, resume`;
      if (i.change === undefined || i.change === "soft") return `update ${q(i.module)} (soft): suspend its processes, load, resume; the state keeps its shape`;
      return `update ${q(i.module)} (advanced): suspend its processes, load, migrate each state with codeChange, resume`;
    case "add_module":
      return `add_module ${q(i.module)}: new module`;
    case "delete_module":
      return `delete_module ${q(i.module)}: gone in this version${i.postPurge === "soft_purge" ? " (soft_purge: the install is refused while a process still runs it)" : ""}`;
    case "apply":
      if (i.module === "application" && i.function === "config_change") return `env of ${q(String(i.args[0]))}: ${describeEnv(i.args, oldEnv)}`;
      return `apply ${i.module}.${i.function}(${i.args.map((a) => JSON.stringify(a)).join(", ")})`;
    case "add_application":
      return `add_application ${q(i.application)}`;
    case "remove_application":
      return `remove_application ${q(i.application)}`;
    case "restart_application":
      return `restart_application ${q(i.application)}: stopped, every module replaced, started`;
    case "restart_new_emulator":
      return "restart_new_emulator: the node restarts on the new release";
    case "point_of_no_return":
      return "point_of_no_return";
    case "sync_nodes":
      return `sync_nodes ${q(i.id)} (timeout ${i.timeoutMs} ms): a barrier across the nodes of a fleet rollout's wave`;
    default:
      return assertNever(i);
  }
}

/** `limit 10 → 20, fresh = 1 (new), old removed`; without `oldEnv`, a changed key shows `limit → 20`. */
function describeEnv(args: readonly unknown[], oldEnv?: Record<string, unknown>): string {
  const [, changed, added, removed] = args as [string, Record<string, unknown>, Record<string, unknown>, string[]];
  const parts = [
    ...Object.entries(changed ?? {}).map(([k, v]) => `${k} ${oldEnv ? `${JSON.stringify(oldEnv[k])} ` : ""}→ ${JSON.stringify(v)}`),
    ...Object.entries(added ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)} (new)`),
    ...(removed ?? []).map((k) => `${k} removed`),
  ];
  return parts.join(", ");
}

function isEmpty(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/** "calculator 1.0.0 → 1.1.0: 1 module reloaded, 0 stateful updates, 0 restarts". */
export function summaryLine(plan: Plan): string {
  const { file } = plan;
  const up = file.up;
  const updated = new Set(up.flatMap((i) => (i.op === "suspend" ? i.modules : [])));
  const supervisors = supervisorsOf(plan);
  const changedCode = [...new Set(up.flatMap((i) => (i.op === "code_change" ? i.modules.map((m) => m.module) : [])))];
  const migrated = changedCode.filter((m) => !supervisors.has(m));
  const resupervised = changedCode.filter((m) => supervisors.has(m));
  const changedModules = new Set([...plan.diff.changed.flatMap((app) => app.changed.map((c) => `${app.name}/${c.to.name}`)), ...plan.diff.npm.reloads.keys()]);
  const reloaded = up.filter((i) => i.op === "load" && changedModules.has(i.module) && !updated.has(i.module)).length;
  const soft = [...updated].filter((m) => !changedCode.includes(m)).length;
  const restarts = restartsNode(plan) ? 1 : 0;
  const parts = [
    `${plural(reloaded, "module")} reloaded`,
    `${plural(migrated.length, "stateful update")}${migrated.length > 0 ? ` migrating processes of ${list(migrated)}` : ""}`,
  ];
  if (resupervised.length > 0) parts.push(`${plural(resupervised.length, "supervisor")} re-reading child specs`);
  if (soft > 0) parts.push(`${plural(soft, "process module")} swapped without migration`);
  const added = plan.diff.changed.reduce((n, app) => n + app.added.length, 0);
  const removed = plan.diff.changed.reduce((n, app) => n + app.removed.length, 0);
  if (added > 0) parts.push(`${plural(added, "module")} added`);
  if (removed > 0) parts.push(`${plural(removed, "module")} removed`);
  const envs = plan.diff.changed.filter((app) => app.env !== undefined).length;
  if (envs > 0) parts.push(`${plural(envs, "env change")}`);
  if (plan.diff.added.length > 0) parts.push(`${plural(plan.diff.added.length, "application")} added`);
  if (plan.diff.removed.length > 0) parts.push(`${plural(plan.diff.removed.length, "application")} removed`);
  if (plan.diff.npm.changes.length > 0) parts.push(`${plural(plan.diff.npm.changes.length, "npm package change")}`);
  parts.push(plural(restarts, "restart"));
  return `${file.release} ${file.from.version} → ${file.to.version}: ${parts.join(", ")}`;
}

/**
 * One npm package change in words: the package and its versions, direct or through which dependencies,
 * and what the upgrade does about it: ``tiny-pad` 1.0.0 → 1.1.0 (direct): hot: reached by `labels/label``.
 */
export function describePackageChange(c: PackageChange, restart: boolean, withoutMetadata = false): string {
  const down = c.from !== undefined && c.to !== undefined && semver.valid(c.from) !== null && semver.valid(c.to) !== null && semver.lt(c.to, c.from);
  const versions = c.from === undefined ? `${c.to} added` : c.to === undefined ? `${c.from} removed` : c.sameVersion ? `${c.to}, other files` : `${c.from} → ${c.to}${down ? " (an older version)" : ""}`;
  const how = c.direct ? "direct" : `through ${c.via.length > 0 ? list(c.via) : "another package"}`;
  const reached = c.importers.length > 0 ? `reached by ${list(c.importers)}` : "no release module reaches it";
  const what =
    c.restart !== undefined ? `restart: ${c.restart}` : withoutMetadata ? `${reached}; restart: a release was built without the package metadata hot upgrades need` : restart ? `${reached} (the node restarts for another reason)` : `hot: ${reached}`;
  return `${q(c.package)} ${versions} (${how}): ${what}`;
}

/** Risks a reviewer must see: anything not hot, irreversible, or that ends processes. */
export function risks(plan: Plan): string[] {
  const out: string[] = [];
  for (const app of plan.diff.removed) out.push(`application ${q(app.name)} is stopped and removed: its processes end and their state is lost`);
  for (const app of plan.diff.changed) {
    for (const m of app.removed) {
      if (m.behaviour === "server" || m.behaviour === "supervisor") out.push(`${q(`${app.name}/${m.name}`)} (${m.behaviour}) is removed: the processes running it end and their state is lost (see "processes whose module leaves")`);
    }
  }
  const supervisors = supervisorsOf(plan);
  for (const i of plan.file.up) {
    if (i.op !== "code_change") continue;
    const migrating = i.modules.map((m) => m.module).filter((m) => !supervisors.has(m));
    if (migrating.length > 0) out.push(`${list(migrating)} migrate${migrating.length === 1 ? "s" : ""} live state with codeChange: if it throws for any process, the whole install rolls back`);
  }
  return out;
}

/** What `relup verify` found for the stateful updates of a plan, as the plan views show it (`generate --verify`). */
export interface PlanVerification {
  /** how it was checked, e.g. "1000 generated states per direction, seed 42" */
  how: string;
  modules: { module: string; oldVsn: string | number; newVsn: string | number; outcome: "verified" | "failed" | "unverified" | "error"; text: string }[];
}
