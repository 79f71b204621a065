import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FILE_SCHEMAS, jsonSchemaText } from "../src/schemas.ts";

const dir = path.join(import.meta.dirname, "..", "docs", "schemas");

describe("docs/schemas", () => {
  it.each(Object.entries(FILE_SCHEMAS))("%s.schema.json is the one generated from its zod schema (run `npm run schemas`)", async (name, schema) => {
    expect(await readFile(path.join(dir, `${name}.schema.json`), "utf8")).toBe(jsonSchemaText(name, schema));
  });

  it("holds no schema for a format that no longer exists", async () => {
    expect((await readdir(dir)).sort()).toEqual(Object.keys(FILE_SCHEMAS).map((n) => `${n}.schema.json`).sort());
  });
});
