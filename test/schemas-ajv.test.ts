/**
 * The published JSON Schemas (docs/schemas) work in another validator as users will run it: each compiles
 * with ajv's draft 2020-12 build in strict mode, accepts the files relup writes and the fixtures' files,
 * and rejects what relup's own parser rejects (an unknown field, a wrong format number).
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import os from "node:os";

const SCHEMAS = path.join(import.meta.dirname, "..", "docs", "schemas");
const FIXTURES = path.join(import.meta.dirname, "..", "fixtures");

async function validator(name: string) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  return ajv.compile(JSON.parse(await readFile(path.join(SCHEMAS, `${name}.schema.json`), "utf8")));
}

const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, "utf8"));

/** Every file under `dir` named `name`, skipping node_modules. */
async function find(dir: string, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") out.push(...(await find(full, name)));
    else if (entry.name === name) out.push(full);
  }
  return out.sort();
}

let built: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-ajv-"));
  await buildRelease({ dir: path.join(FIXTURES, "counter", "2.0.0"), out: built });
  await buildRelease({ dir: path.join(FIXTURES, "hand-written-appup", "1.1.0"), out: built });
}, 60_000);
afterAll(() => rm(built, { recursive: true, force: true }));

describe("docs/schemas with ajv (draft 2020-12, strict mode)", () => {
  it("every schema compiles in strict mode", async () => {
    const names = (await readdir(SCHEMAS)).map((f) => f.replace(/\.schema\.json$/, ""));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) await expect(validator(name), name).resolves.toBeTypeOf("function");
  });

  it("accepts the fixtures' files and the files relup writes", async () => {
    const cases: [string, string[]][] = [
      ["relup-config", await find(FIXTURES, "relup.config.json")],
      ["appup", await find(FIXTURES, "appup.json")],
      ["relup", await find(FIXTURES, "plan.json")],
      ["release", await find(built, "release.json")],
      ["app", await find(built, "app.json")],
    ];
    for (const [name, files] of cases) {
      expect(files.length, `${name}: files to validate`).toBeGreaterThan(0);
      const validate = await validator(name);
      for (const file of files) expect(validate(await readJson(file)) ? [] : validate.errors, file).toEqual([]);
    }
    const rootConfig = await validator("root-config");
    expect(rootConfig({ calculator: { port: 4000 } }) ? [] : rootConfig.errors).toEqual([]);
  });

  it("rejects an unknown field and a wrong format number, as relup's parser does", async () => {
    const config = (await readJson(path.join(FIXTURES, "calculator", "1.0.0", "relup.config.json"))) as Record<string, unknown>;
    const validate = await validator("relup-config");
    expect(validate({ ...config, extra: true })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: "additionalProperties", params: { additionalProperty: "extra" } });
    const plan = (await readJson(path.join(FIXTURES, "calculator", "plan.json"))) as Record<string, unknown>;
    const relup = await validator("relup");
    expect(relup({ ...plan, format: 2 })).toBe(false);
    expect(relup({ ...plan, up: [{ op: "restart_emulator" }] })).toBe(false);
    expect(relup({ ...plan, up: [{ op: "sync_nodes" }] })).toBe(false);
  });
});
