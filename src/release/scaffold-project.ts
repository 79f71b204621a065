/**
 * `relup init`: a release project a user can start from. One application whose supervisor runs a
 * stateful `store` server (vsn, stateSchema, codeChange) and the HTTP server that calls it; the
 * TypeScript, npm and git files around it; and the CI workflow that checks and comments the plan of a
 * pull request. Nothing is overwritten: if any file is already there, nothing is written.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { AppName } from "./names.ts";
import { projectFiles } from "./scaffold-templates.ts";

export interface ScaffoldOptions {
  dir: string;
  /** the release and application name (default: the directory's name, made valid) */
  name?: string;
  /** the version range of relup the project's package.json asks for */
  relupRange: string;
}

export interface Scaffolded {
  dir: string;
  name: string;
  /** the files written, relative to `dir`, in order */
  files: string[];
}

export async function scaffoldProject(options: ScaffoldOptions): Promise<Scaffolded> {
  const dir = path.resolve(options.dir);
  const name = options.name ?? nameFromDir(dir);
  const valid = AppName.safeParse(name);
  if (!valid.success) {
    throw new UserError(`${JSON.stringify(name)} cannot name a release: it ${valid.error.issues[0]?.message ?? "is not valid"}. Fix: \`relup init ${options.dir} --name my_service\`.`, ExitCode.badInput);
  }
  const files = projectFiles({ name, relupRange: options.relupRange });
  const taken = Object.keys(files).filter((rel) => existsSync(path.join(dir, rel)));
  if (taken.length > 0) {
    throw new UserError(`${dir} already has ${taken.join(", ")}: relup init writes a new project and overwrites nothing. Nothing was written. Fix: run it in an empty directory, or move those files aside.`, ExitCode.badInput);
  }
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text, { flag: "wx" });
  }
  return { dir, name, files: Object.keys(files) };
}

/** `My Service.v2` → `my_service_v2`; a name that cannot start with a letter gets `app_` in front. */
function nameFromDir(dir: string): string {
  const base = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 60);
  return /^[a-z]/.test(base) ? base : `app_${base}`.replace(/_+$/, "");
}
