/** Write a small release project into a directory: relup.config.json plus source files. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export interface ProjectSpec {
  config?: Record<string, unknown>;
  /** relative path → content; objects are written as JSON */
  files: Record<string, string | object>;
}

export const oneAppConfig = (extra: Record<string, unknown> = {}) => ({
  format: 1,
  name: "demo",
  version: "1.0.0",
  applications: [{ name: "demo", version: "1.0.0", ...extra }],
});

export async function writeProject(dir: string, spec: ProjectSpec): Promise<string> {
  const files = { "relup.config.json": spec.config ?? oneAppConfig(), ...spec.files };
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}
