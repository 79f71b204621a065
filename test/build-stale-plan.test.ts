/**
 * `relup build` refuses to ship a plan (plans/<from>-<to>.json) made for another build of the release it builds (a stale
 * identity): the plan would be refused at deploy, on the production node. The build names the file, the
 * field and the fix, and writes nothing.
 */
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { relup } from "./helpers/relup-cli.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

describe("relup build with a committed plan in plans/", () => {
  it("ships a plan made for this very build, and refuses one made before the sources changed", async () => {
    const project = path.join(await tempDir(), "calculator");
    await cp("fixtures/calculator/1.1.0", project, { recursive: true });
    const out = await tempDir();
    expect((await relup(["build", "fixtures/calculator/1.0.0", "--out", out])).code).toBe(0);
    expect((await relup(["build", project, "--out", out])).code).toBe(0);
    const [v1, v2] = [path.join(out, "calculator-1.0.0.tar.gz"), path.join(out, "calculator-1.1.0.tar.gz")];
    expect((await relup(["generate", v1, v2, "-o", path.join(project, "plans") + "/"])).code).toBe(0);
    // The plan was made from this build: shipping it is fine (the same release: no --force).
    expect((await relup(["build", project, "--out", out])).code).toBe(0);
    const shipped = await readFile(v2);

    // The sources change after the plan was generated: the release built now is another build.
    const source = path.join(project, "apps", "calculator", "calculator.ts");
    await writeFile(source, (await readFile(source, "utf8")) + "\nexport const extra = 1;\n");
    const result = await relup(["build", project, "--out", out, "--force"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/plans\/1\.0\.0-1\.1\.0\.json: to\.identity: is [0-9a-f]{12}…, the identity of another build of calculator 1\.1\.0; this build is [0-9a-f]{12}…/);
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).toContain("relup generate");
    expect(result.stderr).toContain(`-o ${path.relative(process.cwd(), path.join(project, "plans"))}/`);
    // Nothing written: the earlier build is still there, byte for byte, and no staging is left.
    expect(await readFile(v2)).toEqual(shipped);
    expect((await readdir(out)).sort()).toEqual(["calculator-1.0.0", "calculator-1.0.0.tar.gz", "calculator-1.1.0", "calculator-1.1.0.tar.gz"]);
  });
});
