/**
 * A hand-written appup with an op relup does not have (`{op: "restart_emulator"}`, an OTP instruction) is
 * refused end to end, never dropped from the plan: `relup build` refuses to ship it, and `relup
 * generate` refuses a release that ships it anyway; both name the file, the field, the op and the fix.
 */
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

/** hand-written-appup 1.1.0 with `{op: "restart_emulator"}` added to its up instructions. */
async function projectWithRestartEmulator(): Promise<string> {
  const project = path.join(await tempDir(), "project");
  await cp("fixtures/hand-written-appup/1.1.0", project, { recursive: true });
  const file = path.join(project, "apps", "cache", "appup.json");
  const appup = JSON.parse(await readFile(file, "utf8")) as { up: { instructions: object[] }[] };
  appup.up[0]!.instructions.push({ op: "restart_emulator" });
  await writeFile(file, JSON.stringify(appup, null, 2));
  return project;
}

describe("an appup instruction relup does not have", () => {
  it("`relup build` refuses to ship it: exit 2, the file, the field, the op and the fix; nothing written", async () => {
    const project = await projectWithRestartEmulator();
    const out = await tempDir();
    const result = await relup(["build", project, "--out", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("apps/cache/appup.json: up[0].instructions[1].op:");
    expect(result.stderr).toContain('"restart_emulator" is not an appup instruction');
    expect(result.stderr).toMatch(/Fix: .*remove it/);
    expect(await readdir(out)).toEqual([]);
  });

  it("`relup generate` refuses a built release that ships it: exit 2 with the same words, and no plan written", async () => {
    const out = await tempDir();
    // Built by the release layer alone (as an older relup, or a hand-made release, would ship it).
    await buildRelease({ dir: "fixtures/hand-written-appup/1.0.0", out });
    const v2 = await buildRelease({ dir: await projectWithRestartEmulator(), out });
    const plan = path.join(out, "relup.json");
    const result = await relup(["generate", path.join(out, "hand-written-appup-1.0.0.tar.gz"), v2.tarball, "-o", plan, "--format", "text"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${v2.tarball}:lib/cache-1.1.0/appup.json: up[0].instructions[1].op: "restart_emulator" is not an appup instruction`);
    expect(result.stderr).toMatch(/Fix: .*remove it/);
    expect(result.stdout).toBe("");
    expect((await readdir(out)).includes("relup.json")).toBe(false);
  });
});
