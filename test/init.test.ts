/**
 * `relup init` as a user runs it (the CLI's entry, runCli, with its real arguments), without npm: the repository
 * provides `relup/runtime` to release code, so the scaffold builds here as it is written. The scaffold
 * builds; a 1.1.0 made the way its README says (bump the versions, change the store's state shape with
 * vsn 2, stateSchema and codeChange both ways) generates, verifies and is applied to the running node
 * with the counts kept, and rolled back with them kept. And what init refuses: a target that already
 * has any of its files (exit 2, nothing written), an invalid --name; a directory name that is not a
 * valid release name is made into one.
 *
 * The package as installed from its tarball, with `tsc` on the scaffold, is test/package-install.test.ts.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, get } from "../src/net-helpers.ts";
import { waitForExit } from "../src/runtime/process-exit.ts";
import { STORE_VSN_2 } from "./helpers/init-store.ts";
import { relup } from "./helpers/relup-cli.ts";
import { useDetachedLaunchers } from "./helpers/detached.ts";
import { useTempDirs } from "./helpers/temp-dir.ts";

const tempDir = useTempDirs();

const detached = useDetachedLaunchers();

const SCAFFOLD = ["package.json", "relup.config.json", "tsconfig.json", ".gitignore", ".github/workflows/relup-plan.yml", "apps/shop/app.ts", "apps/shop/sup.ts", "apps/shop/store.ts", "apps/shop/http_server.ts", "apps/shop/router.ts", "README.md"];

async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe("relup init", () => {
  it("writes a project that builds, and whose store upgrades 1.0.0 → 1.1.0 live with its state kept", async () => {
    const project = path.join(await tempDir(), "shop");
    const init = await relup(["init", project]);
    expect(init.code).toBe(0);
    expect(init.stdout.split("\n").map((l) => l.trim()).filter(Boolean)).toEqual(SCAFFOLD);
    expect(init.stderr).toContain(`wrote the release project shop in ${project}`);
    const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8")) as { devDependencies: Record<string, string>; dependencies: object };
    expect(pkg.devDependencies.relup).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(pkg.dependencies).toEqual({});

    const out = path.join(project, "_build");
    const v1 = await relup(["build", project, "--out", out]);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.stdout).toContain("store [server, vsn 1, codeChange]");

    // 1.1.0 as the project's README says: bump the versions, change the store with its vsn and codeChange.
    const configFile = path.join(project, "relup.config.json");
    const config = JSON.parse(await readFile(configFile, "utf8")) as { version: string; applications: { version: string }[] };
    config.version = "1.1.0";
    config.applications[0]!.version = "1.1.0";
    await writeFile(configFile, JSON.stringify(config, null, 2) + "\n");
    await writeFile(path.join(project, "apps/shop/store.ts"), STORE_VSN_2);
    // And the answers change: the router's new code answers the first request after the upgrade.
    const routerFile = path.join(project, "apps/shop/router.ts");
    await writeFile(routerFile, (await readFile(routerFile, "utf8")).replace("res.end(`${count}\\n`);", "res.end(`${match[2]}=${count}\\n`);"));
    const v2 = await relup(["build", project, "--out", out]);
    expect(v2.code, v2.stderr).toBe(0);

    const [from, to] = [path.join(out, "shop-1.0.0.tar.gz"), path.join(out, "shop-1.1.0.tar.gz")];
    const plan = await relup(["generate", from, to, "--format", "text"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("update `store` (advanced)");
    const verify = await relup(["verify", from, to, "--format", "text"]);
    expect(verify.stdout).toMatch(/✓ shop\/store vsn 1 → 2: verified/);
    expect(verify.code).toBe(0);

    const port = await freePort();
    const root = path.join(project, "relup-root");
    detached.root(root);
    const started = await relup(["start", from, "--root", root, "--detach"], { PORT: String(port) });
    expect(started.code, started.stderr).toBe(0);
    const nodePid = Number(started.stdout.trim());
    await get(port, "/count/apples");
    await get(port, "/count/apples");
    expect(await get(port, "/count/pears")).toBe("1");
    expect(await get(port, "/peek/apples")).toBe("2");
    expect(await get(port, "/nothing")).toBe("not found");

    const applied = await relup(["apply", to, "--root", root, "--yes"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("upgraded 1.0.0 → 1.1.0");
    expect(await get(port, "/peek/apples")).toBe("apples=2");
    expect(await get(port, "/count/apples")).toBe("apples=3");

    const rolledBack = await relup(["rollback", "--root", root]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(await get(port, "/peek/apples")).toBe("3");
    expect(await get(port, "/count/pears")).toBe("2");

    expect(await relup(["stop", "--root", root])).toMatchObject({ code: 0 });
    expect(await waitForExit(nodePid)).toBe(true);
  }, 120_000);

  it("refuses a directory that already has any of its files (exit 2), and writes nothing", async () => {
    const dir = await tempDir();
    // Another file is fine; one of the scaffold's files, even deep in apps/, is not.
    await writeFile(path.join(dir, "notes.txt"), "mine\n");
    await mkdir(path.join(dir, "apps", "shop"), { recursive: true });
    await writeFile(path.join(dir, "apps", "shop", "store.ts"), "// mine\n");
    await writeFile(path.join(dir, "tsconfig.json"), "{}\n");
    const before = await listAll(dir);

    const refused = await relup(["init", dir, "--name", "shop"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`${dir} already has tsconfig.json, apps/shop/store.ts: relup init writes a new project and overwrites nothing. Nothing was written.`);
    expect(refused.stderr).toContain("Fix:");
    expect(await listAll(dir)).toEqual(before);
    expect(await readFile(path.join(dir, "apps", "shop", "store.ts"), "utf8")).toBe("// mine\n");
    expect(await readFile(path.join(dir, "tsconfig.json"), "utf8")).toBe("{}\n");

    // The same directory with only an unrelated file takes the project.
    const other = await tempDir();
    await writeFile(path.join(other, "notes.txt"), "mine\n");
    expect((await relup(["init", other, "--name", "shop"])).code).toBe(0);
    expect(await listAll(other)).toEqual(expect.arrayContaining(["notes.txt", ...SCAFFOLD.map((f) => f.replaceAll("/", path.sep))]));
  });

  it("--relup: a tarball given from here is written as npm reads it from the project (file:, relative); a range as given", async () => {
    const parent = await tempDir();
    await writeFile(path.join(parent, "relup-0.1.0.tgz"), "a packed relup");
    const fromTarball = await relup(["init", path.join(parent, "a"), "--relup", path.join(parent, "relup-0.1.0.tgz")]);
    expect(fromTarball.code, fromTarball.stderr).toBe(0);
    expect(fromTarball.stderr).toContain('takes relup from "file:../relup-0.1.0.tgz"');
    const pkg = async (dir: string) => (JSON.parse(await readFile(path.join(parent, dir, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies.relup;
    expect(await pkg("a")).toBe("file:../relup-0.1.0.tgz");
    expect((await relup(["init", path.join(parent, "b"), "--relup", "^0.2.0"])).code).toBe(0);
    expect(await pkg("b")).toBe("^0.2.0");
    const missing = await relup(["init", path.join(parent, "c"), "--relup", "nope-0.1.0.tgz"]);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining("--relup nope-0.1.0.tgz: no such file or folder") });
  });

  it("refuses an invalid --name (exit 2, nothing written), and makes a release name of a directory's name", async () => {
    const parent = await tempDir();
    const target = path.join(parent, "svc");
    const refused = await relup(["init", target, "--name", "9x"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`"9x" cannot name a release: it must be lowercase letters, digits, '_' or '-', starting with a letter`);
    expect(refused.stderr).toContain(`Fix: \`relup init ${target} --name my_service\``);
    expect(existsSync(target)).toBe(false);

    const upper = path.join(parent, "My Shop.v2");
    expect(await relup(["init", upper])).toMatchObject({ code: 0, stderr: expect.stringContaining("wrote the release project my_shop_v2") });
    expect(JSON.parse(await readFile(path.join(upper, "relup.config.json"), "utf8"))).toMatchObject({ name: "my_shop_v2", applications: [{ name: "my_shop_v2" }] });
    expect(existsSync(path.join(upper, "apps", "my_shop_v2", "store.ts"))).toBe(true);

    const digits = path.join(parent, "2048");
    expect(await relup(["init", digits])).toMatchObject({ code: 0, stderr: expect.stringContaining("wrote the release project app_2048") });
    expect(JSON.parse(await readFile(path.join(digits, "package.json"), "utf8"))).toMatchObject({ name: "app_2048", scripts: { start: "relup start --initial _build/app_2048-1.0.0.tar.gz --root relup-root --detach" } });
  });
});
