/**
 * What the node agent does to put a release from the store on its node, for the group's desired record
 * and for a rollout record alike (both name the same things: the pinned release, its URL, the signature's,
 * the plan): fetchRelease (fetch-release.ts) with the pin from etcd and the trusted keys, into
 * ROOT/fleet/incoming; the plan written beside it (inline, or downloaded from its URL); then applyRelease
 * (src/apply), exactly as `relup apply TARBALL --plan P` does: the node unpacks the tarball through its
 * control socket, checks the plan and installs it live (not permanent), or refuses it and changes
 * nothing (a release it unpacked for the attempt is removed again). The fetched files are removed after.
 *
 * `applying` is called once the release is fetched and checked, before the node is asked to install it.
 * A failure throws an Error whose message is the issue as its formatter words it, prefixed with the plan's
 * source when the install itself failed.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { applyRelease, type ApplyOptions, type ApplyResult } from "../apply/apply-release.ts";
import type { DesiredRecord } from "./desired-record.ts";
import { downloadText } from "./download.ts";
import { fetchRelease } from "./fetch-release.ts";
import type { ReleasePin } from "./published-record.ts";
import type { TrustedKeys } from "./signing-keys.ts";
import { parseStoreUrl } from "./store-url.ts";

/** What a desired record and a rollout record both say about the release to install. */
export type PinnedSource = Pick<DesiredRecord, "release" | "url" | "signatureUrl" | "plan">;

export interface InstallPinnedOptions {
  root: string;
  source: PinnedSource;
  /** where the pin was read, for messages (`the desired release of group calc in etcd (generation 2)`) */
  pinnedBy: string;
  /** where an inline plan was read, for messages (`relup/groups/calc/desired (inline)`) */
  inlinePlanFrom: string;
  trusted?: TrustedKeys;
  log: (event: string, fields: Record<string, unknown>) => void;
  applying: () => void;
  /** more options of applyRelease (a barrier: hold before the point of no return) */
  apply?: Omit<Partial<ApplyOptions>, "root" | "release" | "planFile" | "confirm" | "note">;
}

export async function installPinned(options: InstallPinnedOptions): Promise<ApplyResult> {
  const { root, source } = options;
  const { name, version } = source.release;
  const pin: ReleasePin = { ...source.release, source: options.pinnedBy };
  const incoming = path.join(root, "fleet", "incoming");
  const fetched = await fetchRelease({ url: source.url, pin, dest: incoming, ...(options.trusted ? { trusted: options.trusted } : {}), ...(source.signatureUrl !== undefined ? { signatureUrl: source.signatureUrl } : {}) });
  const planFile = path.join(incoming, `${name}-${version}.relup.json`);
  try {
    await writeFile(planFile, await planText(source), { mode: 0o600 });
    options.applying();
    const from = "inline" in source.plan ? options.inlinePlanFrom : source.plan.url;
    return await applyRelease({ ...options.apply, root, release: fetched.tarball, planFile, confirm: async () => false, note: (text) => options.log("fleet apply note", { text }) }).catch((error: Error) => {
      throw new Error(`installing ${name} ${version} with the plan from ${from} (written to ${planFile}):\n${error.message}`, { cause: error });
    });
  } finally {
    await rm(fetched.tarball, { force: true });
    await rm(`${fetched.tarball}.sig.json`, { force: true });
    await rm(planFile, { force: true });
  }
}

/** The plan as the text of a relup file: inline, or fetched from its URL (applyRelease reads and checks it). */
async function planText(source: PinnedSource): Promise<string> {
  if ("inline" in source.plan) return JSON.stringify(source.plan.inline, null, 2);
  const url = parseStoreUrl(source.plan.url, "the plan's URL");
  const text = await downloadText(url, { maxBytes: 64 * 1024 * 1024 });
  if (text === undefined) throw new Error(`${url.href}: no plan there. Fix: put the plan at that URL, or write the record again with a plan (relup fleet desire or relup fleet rollout with --plan)`);
  return text;
}
