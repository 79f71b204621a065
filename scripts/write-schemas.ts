/** Writes docs/schemas/<name>.schema.json from the zod schemas (`npm run schemas`). */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { FILE_SCHEMAS, jsonSchemaText } from "../src/schemas.ts";

const dir = path.join(import.meta.dirname, "..", "docs", "schemas");
await mkdir(dir, { recursive: true });
for (const [name, schema] of Object.entries(FILE_SCHEMAS)) {
  await writeFile(path.join(dir, `${name}.schema.json`), jsonSchemaText(name, schema));
  console.log(`wrote docs/schemas/${name}.schema.json`);
}
