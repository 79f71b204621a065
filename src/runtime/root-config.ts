/**
 * The operator's configuration: `<root>/config.json`, one object per application holding env keys that
 * override the application's app.json defaults (OTP's sys.config). A node reads it when it boots, and
 * an install reads it again before its first step, so that the env a node runs with after an upgrade
 * is the env it would boot with: the target release's defaults under these overrides.
 *
 *   { "greeter": { "port": 8080, "limit": 15 } }
 *
 * A missing file means no overrides. A file that is not JSON, or not of this shape, is refused with
 * every problem named (file, field, fix): a node does not boot with it, and an install does not start.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { AppName, Json } from "../release/names.ts";
import { ReleaseError } from "../release/issues.ts";
import { parseJsonFile } from "../release/parse-json-file.ts";

export const RootConfig = z.record(AppName, z.record(z.string(), Json));
export type RootConfig = z.infer<typeof RootConfig>;

const FIX = 'make config.json an object of applications, each an object of env keys (e.g. {"greeter": {"port": 8080}}); see docs/reference.md.';

export function rootConfigFile(root: string): string {
  return path.join(root, "config.json");
}

/** The overrides in `<root>/config.json` ({} when there is none); a bad file throws ReleaseError (exit 2). */
export async function readRootConfig(root: string): Promise<RootConfig> {
  const file = rootConfigFile(root);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const parsed = parseJsonFile(file, text, RootConfig, FIX);
  if (!parsed.ok) throw new ReleaseError(parsed.issues);
  return parsed.value;
}
