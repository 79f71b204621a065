/**
 * `relup fleet desire` as library calls. `desireRelease` reads the release's record in the store
 * (`.published.json`: its sha256 and identity, the pin), checks the plan against it (a plan from or to
 * that build), and writes the group's desired record (desired-record.ts) in one etcd transaction with the
 * next generation, only if nobody wrote it since it was read. `waitForGroup` then follows the group's
 * node records (an etcd watch) until every registered node runs the desired version or reports that
 * generation failed, or the timeout passes.
 */
import path from "node:path";
import type { Etcd3 } from "etcd3";
import semver from "semver";
import { ExitCode, UserError } from "../errors.ts";
import type { RelupFile } from "../relup/instruction.ts";
import { readRelupFile } from "../relup/relup-file-io.ts";
import { DesiredRecord, desiredKey } from "./desired-record.ts";
import { downloadText } from "./download.ts";
import { FleetError } from "./issues.ts";
import { groupListing, type GroupListing } from "./list-group.ts";
import { type NodeRecord, nodesPrefix } from "./node-record.ts";
import { PublishedRecord } from "./published-record.ts";
import { parseStoreUrl, releaseUrls } from "./store-url.ts";

/** `calculator@1.1.0`, `calculator-1.1.0`, or a tarball path `…/calculator-1.1.0.tar.gz`. */
export function parseReleaseRef(text: string): { name: string; version: string } {
  const base = path.basename(text).replace(/\.tar\.gz$/, "");
  const at = base.indexOf("@");
  if (at > 0 && semver.valid(base.slice(at + 1)) === base.slice(at + 1)) return { name: base.slice(0, at), version: base.slice(at + 1) };
  for (let i = base.indexOf("-"); i > 0; i = base.indexOf("-", i + 1)) {
    const version = base.slice(i + 1);
    if (/^[a-z][a-z0-9_-]*$/.test(base.slice(0, i)) && semver.valid(version) === version) return { name: base.slice(0, i), version };
  }
  throw new UserError(`${JSON.stringify(text)} names no release. Fix: give it as NAME@VERSION (calculator@1.1.0) or as the published tarball's file name (calculator-1.1.0.tar.gz).`, ExitCode.badInput);
}

export interface DesireOptions {
  release: { name: string; version: string };
  store: string;
  /** a plan file, or the URL (file://, http(s)://) the nodes fetch it from */
  plan: string;
  signatureUrl?: string;
}

/** The desired record to write (generation 0: set when written), from the store's record and the plan. */
export async function desiredFromStore(options: DesireOptions): Promise<Omit<DesiredRecord, "generation">> {
  const urls = releaseUrls(parseStoreUrl(options.store), options.release);
  const text = await downloadText(urls.record);
  if (text === undefined) throw new FleetError([{ code: "fetch-failed", url: urls.record.href, detail: `${options.release.name} ${options.release.version} is not published in this store (no record)`, fix: `publish it first: \`relup fleet publish _build/${options.release.name}-${options.release.version}.tar.gz --store ${options.store}\`` }]);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FleetError([{ code: "bad-file", file: urls.record.href, detail: `is not valid JSON (${(error as Error).message})`, fix: "publish the release again with `relup fleet publish`" }]);
  }
  const parsed = PublishedRecord.safeParse(data);
  if (!parsed.success) throw new FleetError([{ code: "bad-file", file: urls.record.href, field: parsed.error.issues[0]!.path.join("."), detail: parsed.error.issues[0]!.message, fix: "publish the release again with `relup fleet publish`" }]);
  const record = parsed.data;
  const release = { ...record.release, sha256: record.tarball.sha256 };
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.plan);
  let plan: DesiredRecord["plan"];
  if (isUrl) plan = { url: parseStoreUrl(options.plan, "--plan").href };
  else {
    const inline = await readRelupFile(options.plan);
    checkPlan(options.plan, inline, release);
    plan = { inline };
  }
  return { format: 1, release, url: urls.tarball.href, ...(options.signatureUrl !== undefined ? { signatureUrl: parseStoreUrl(options.signatureUrl, "--signature-url").href } : {}), plan, source: urls.record.href, since: new Date().toISOString() };
}

/** A plan from or to the desired build (the same version and identity), of the same release. */
function checkPlan(file: string, plan: RelupFile, release: { name: string; version: string; identity: string }): void {
  const matches = (stamp: { version: string; identity: string }) => stamp.version === release.version && stamp.identity === release.identity;
  if (plan.release !== release.name || !(matches(plan.to) || matches(plan.from))) {
    throw new UserError(`${file}: is the plan of ${plan.release} ${plan.from.version} → ${plan.to.version}, not a plan to or from the published ${release.name} ${release.version} (identity ${release.identity.slice(0, 16)}). Nothing was written. Fix: give the plan generated for this build (relup generate <running> <this release> -o plans/).`, ExitCode.badInput);
  }
}

/** Write the desired record with the next generation; refused if it changed between the read and the write. */
export async function writeDesired(client: Etcd3, group: string, desired: Omit<DesiredRecord, "generation">): Promise<DesiredRecord> {
  const key = desiredKey(group);
  const current = (await client.get(key).exec()).kvs[0];
  let generation = 1;
  if (current) {
    const old = DesiredRecord.safeParse(JSON.parse(current.value.toString()));
    if (old.success) generation = old.data.generation + 1;
  }
  const record: DesiredRecord = { ...desired, generation };
  const txn = current ? client.if(key, "Mod", "==", current.mod_revision) : client.if(key, "Create", "==", 0);
  const result = await txn.then(client.put(key).value(JSON.stringify(record))).commit();
  if (!result.succeeded) throw new UserError(`${key} was changed by someone else while this command wrote it. Nothing was written. Fix: check \`relup fleet status\`, then run the command again.`, ExitCode.checkFailed);
  return record;
}

/** A node is done with the desire when it runs the version (and answered this generation) or failed it. */
export function nodeOutcome(node: NodeRecord, desired: DesiredRecord): "done" | "failed" | "pending" {
  if (node.desired?.generation !== desired.generation) return "pending";
  if (node.status === "failed") return "failed";
  if (node.status === "running" && node.release?.version === desired.release.version) return "done";
  return "pending";
}

/** Follow the group's records until no node is pending, or the timeout; `change` sees every listing. */
export async function waitForGroup(client: Etcd3, group: string, desired: DesiredRecord, options: { timeoutMs: number; change?: (listing: GroupListing) => void }): Promise<{ listing: GroupListing; timedOut: boolean }> {
  const prefix = nodesPrefix(group);
  const watcher = await client.watch().prefix(prefix).create();
  let timer: NodeJS.Timeout | undefined;
  let listing: GroupListing = { group, nodes: [], unreadable: [] };
  try {
    return await new Promise((resolve, reject) => {
      const check = async () => {
        listing = groupListing(group, await client.getAll().prefix(prefix).strings());
        options.change?.(listing);
        if (listing.nodes.every((node) => nodeOutcome(node, desired) !== "pending")) resolve({ listing, timedOut: false });
      };
      let checking = Promise.resolve();
      // Checks run one after another; a failed one rejects the wait (its promise is the chain's own).
      const queue = () => void (checking = checking.then(check).catch(reject));
      watcher.on("put", queue);
      watcher.on("delete", queue);
      timer = setTimeout(() => resolve({ listing, timedOut: true }), options.timeoutMs);
      queue();
    });
  } finally {
    clearTimeout(timer);
    await watcher.cancel();
  }
}
