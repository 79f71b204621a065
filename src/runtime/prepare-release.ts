/**
 * What a node reads of a new release before an install changes anything, as one job that can run off
 * the node's event loop (release-reader.ts runs it in a worker thread when the release is large): the safe reader (every file hashed
 * and checked against release.json, release.json and app.json parsed), the plan checker, the check of
 * the plan's meaning against the two releases, and the source of every module the plan loads, compiled
 * once to find syntax errors and to produce V8's code cache, so that the node's own compile of the same
 * text is cheap. Its answer is plain data (structured-cloneable); its failures are the same issues the
 * node reported when it did this itself, checked in the same order.
 *
 * The source handed back is the one compiled here and hashed here against its app.json sha256: the code
 * the node compiles is the code that was verified, even if the file changed after the scan. A code cache
 * is only ever given to the compile of the very text it was made from (V8 trusts a cache whose source
 * has the same length).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import vm from "node:vm";
import { moduleFile, type AppFile } from "../release/app-file.ts";
import { sha256 } from "../release/fs-utils.ts";
import { ReleaseError } from "../release/issues.ts";
import { readRelease } from "../release/read-release.ts";
import { appDir, RELEASE_FILE, type ReleaseFile } from "../release/release-file.ts";
import { checkPlanMeaning, type ReleaseApps } from "../relup/check-plan-meaning.ts";
import { checkScript } from "../relup/check-script.ts";
import type { Instruction, RelupFile } from "../relup/instruction.ts";
import type { PlanIssue } from "../relup/issues.ts";
import { WRAPPER_PARAMS } from "./wrapper-params.ts";

/** A verified release as a node holds it (LoadedRelease without its `close`). */
export interface ReadTarget {
  dir: string;
  release: ReleaseFile;
  apps: AppFile[];
  identity: string;
}

/** One module of the target release, read and compiled once: its text and V8's code cache, or why it does not compile. */
export type PreparedCode = { ref: string; filename: string; source: string; cachedData?: Uint8Array } | { ref: string; filename: string; error: string };

export interface PrepareJob {
  /** the unpacked target release directory */
  dir: string;
  plan: RelupFile;
  direction: "up" | "down";
  /** the build the plan names as the target: when the release read is another, nothing else is checked */
  targetIdentity: string;
  /** the running release's manifest and applications (the other side of the plan's meaning) */
  running: ReleaseApps;
  /**
   * compile each module once (its syntax errors, V8's code cache): in the reader's thread. On the node's
   * own thread the text is only read and checked, and the load_object_code step compiles it once.
   */
  compile: boolean;
}

export interface PrepareAnswer {
  target: ReadTarget;
  /** the plan checker's issues for the section that runs (checked only when the build is the planned one) */
  scriptIssues: PlanIssue[];
  /** the plan's meaning against the two releases (checked only when the script passed) */
  meaningIssues: PlanIssue[];
  /** every module the section's load_object_code steps read (only when both checks passed) */
  code: PreparedCode[];
}

/** `readRelease` of a directory, or of a tarball extracted `into` a new directory (nothing temporary is handed out). */
export async function readTarget(source: string, into?: string): Promise<ReadTarget> {
  const loaded = await readRelease(source, into === undefined ? {} : { into });
  if (into === undefined && loaded.dir !== path.resolve(source)) {
    await loaded.close();
    throw new Error(`${source}: a release tarball is read into a directory of the root, not a temporary one`);
  }
  return { dir: loaded.dir, release: loaded.release, apps: loaded.apps, identity: loaded.identity };
}

export async function prepareRelease(job: PrepareJob): Promise<PrepareAnswer> {
  const target = await readTarget(job.dir);
  const empty = { target, scriptIssues: [], meaningIssues: [], code: [] };
  if (target.identity !== job.targetIdentity) return empty;
  const script: Instruction[] = job.direction === "up" ? job.plan.up : job.plan.down;
  const scriptIssues = checkScript(job.direction, script);
  if (scriptIssues.length > 0) return { ...empty, scriptIssues };
  // Both sections against what the two releases need: the one not run now is the way back.
  const [from, to] = job.direction === "up" ? [job.running, target] : [target, job.running];
  const meaningIssues = checkPlanMeaning(job.plan, from, to);
  if (meaningIssues.length > 0) return { ...empty, meaningIssues };
  const code: PreparedCode[] = [];
  for (const i of script) {
    if (i.op !== "load_object_code") continue;
    for (const m of i.modules) {
      const prepared = await prepareModule(target, `${i.application}/${m}`, job.compile);
      if (prepared) code.push(prepared);
    }
  }
  return { target, scriptIssues: [], meaningIssues: [], code };
}

/**
 * Read and compile one module. A module the release does not have is left to the load_object_code step,
 * which reports it as it always has; a file whose bytes are no longer those app.json lists is refused.
 */
async function prepareModule(target: ReadTarget, ref: string, compile: boolean): Promise<PreparedCode | undefined> {
  const slash = ref.indexOf("/");
  const app = target.apps.find((a) => a.name === ref.slice(0, slash));
  const meta = app?.modules.find((m) => m.name === ref.slice(slash + 1));
  if (!app || !meta) return undefined;
  const rel = `${appDir(app)}/${moduleFile(meta.name)}`;
  const filename = path.join(target.dir, rel);
  const bytes = await readFile(filename);
  const found = sha256(bytes);
  if (found !== meta.sha256) throw new ReleaseError([{ code: "checksum-mismatch", file: path.join(target.dir, RELEASE_FILE), entry: rel, expected: meta.sha256, found }]);
  const source = bytes.toString("utf8");
  if (!compile) return { ref, filename, source };
  try {
    const fn = vm.compileFunction(source, WRAPPER_PARAMS, { filename, produceCachedData: true }) as { cachedData?: Buffer };
    return { ref, filename, source, ...(fn.cachedData ? { cachedData: new Uint8Array(fn.cachedData) } : {}) };
  } catch (error) {
    return { ref, filename, error: (error as Error).message };
  }
}
