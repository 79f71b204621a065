/**
 * Check that a scanned or extracted release is exactly what its build wrote:
 *   - release.json parses strictly (format 1, no unknown field) and names the archive's top directory
 *   - every file is listed in release.json `files` with the same sha256, and every listed file exists
 *   - every application has an app.json that parses strictly and matches release.json
 *   - every module's compiled file matches its app.json sha256; imports, start module and application
 *     dependencies name things the release contains
 * All issues are collected, so one run reports everything wrong with a release.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { APP_FILE, AppFile, moduleFile } from "./app-file.ts";
import { unsafePathReason } from "./entry-path.ts";
import type { ReleaseIssue } from "./issues.ts";
import { parseJsonFile } from "./parse-json-file.ts";
import { appDir, RELEASE_FILE, ReleaseFile, releaseDirName } from "./release-file.ts";

export interface VerifiedRelease {
  release: ReleaseFile;
  apps: AppFile[];
}

export type VerifyResult = { ok: true; value: VerifiedRelease } | { ok: false; issues: ReleaseIssue[] };

export interface VerifyInput {
  /** the release directory on disk */
  root: string;
  /** how the release is named in messages: the tarball or directory given by the user */
  label: string;
  /** every file found, relative to root → sha256 */
  files: ReadonlyMap<string, string>;
  /** the tarball's top-level directory, which must be `<name>-<version>` */
  top?: string;
}

export async function verifyRelease(input: VerifyInput): Promise<VerifyResult> {
  const at = (rel: string) => `${input.label}${input.top ? `:${input.top}` : ""}/${rel}`;
  if (!input.files.has(RELEASE_FILE)) {
    return { ok: false, issues: [{ code: "missing-file", file: at(RELEASE_FILE), why: "every release has a release.json at its root" }] };
  }
  const parsed = parseJsonFile(at(RELEASE_FILE), await readFile(path.join(input.root, RELEASE_FILE), "utf8"), ReleaseFile);
  if (!parsed.ok) return { ok: false, issues: parsed.issues };
  const release = parsed.value;
  const issues: ReleaseIssue[] = [];

  if (input.top !== undefined && input.top !== releaseDirName(release)) {
    issues.push({ code: "mismatch", file: input.label, field: "top-level directory", expected: releaseDirName(release), found: input.top });
  }
  for (const [rel, hash] of [...input.files].filter(([rel]) => rel !== RELEASE_FILE)) {
    const listed = release.files[rel];
    if (listed === undefined) issues.push({ code: "unlisted-file", file: input.label, entry: rel });
    else if (listed !== hash) issues.push({ code: "checksum-mismatch", file: at(RELEASE_FILE), entry: rel, expected: listed, found: hash });
  }
  for (const rel of Object.keys(release.files)) {
    const unsafe = unsafePathReason(rel);
    if (unsafe) issues.push({ code: "invalid-field", file: at(RELEASE_FILE), field: `files[${JSON.stringify(rel)}]`, detail: `is not a safe path: ${unsafe}` });
    else if (!input.files.has(rel)) issues.push({ code: "listed-file-missing", file: at(RELEASE_FILE), entry: rel });
  }
  if (issues.length > 0) return { ok: false, issues };

  const apps: AppFile[] = [];
  const names = new Set<string>();
  for (const [i, ref] of release.applications.entries()) {
    if (names.has(ref.name)) {
      issues.push({ code: "invalid-field", file: at(RELEASE_FILE), field: `applications[${i}].name`, detail: `repeats application ${JSON.stringify(ref.name)}` });
    }
    names.add(ref.name);
    const rel = `${appDir(ref)}/${APP_FILE}`;
    if (!input.files.has(rel)) {
      issues.push({ code: "missing-file", file: at(rel), why: `release.json lists application ${ref.name} ${ref.version}` });
      continue;
    }
    const app = parseJsonFile(at(rel), await readFile(path.join(input.root, rel), "utf8"), AppFile);
    if (!app.ok) {
      issues.push(...app.issues);
      continue;
    }
    if (app.value.name !== ref.name) issues.push({ code: "mismatch", file: at(rel), field: "name", expected: ref.name, found: app.value.name });
    if (app.value.version !== ref.version) issues.push({ code: "mismatch", file: at(rel), field: "version", expected: ref.version, found: app.value.version });
    apps.push(app.value);
  }
  if (issues.length > 0) return { ok: false, issues };

  const modules = new Set(apps.flatMap((a) => a.modules.map((m) => `${a.name}/${m.name}`)));
  for (const app of apps) {
    const rel = `${appDir(app)}/${APP_FILE}`;
    app.modules.forEach((m, i) => {
      const file = `${appDir(app)}/${moduleFile(m.name)}`;
      const hash = input.files.get(file);
      if (hash === undefined) issues.push({ code: "missing-file", file: at(file), why: `${rel} lists module ${m.name}` });
      else if (hash !== m.sha256) issues.push({ code: "mismatch", file: at(rel), field: `modules[${i}].sha256`, expected: hash, found: m.sha256 });
      m.imports.forEach((ref, j) => {
        if (!modules.has(ref)) issues.push({ code: "unknown-reference", file: at(rel), field: `modules[${i}].imports[${j}]`, ref, kind: "module" });
      });
    });
    if (app.start !== undefined && !app.modules.some((m) => m.name === app.start)) {
      issues.push({ code: "unknown-reference", file: at(rel), field: "start", ref: app.start, kind: "module" });
    }
    app.applications.forEach((dep, j) => {
      if (!names.has(dep)) issues.push({ code: "unknown-reference", file: at(rel), field: `applications[${j}]`, ref: dep, kind: "application" });
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { release, apps } };
}
