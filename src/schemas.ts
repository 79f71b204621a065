/**
 * Every file format relup reads or writes, by the name of its JSON Schema in docs/schemas/.
 * `npm run schemas` writes them; a test fails when the committed files differ from these.
 */
import { z } from "zod";
import { AppupFile } from "./appup/instruction.ts";
import { RelupFile } from "./relup/instruction.ts";
import { AppFile } from "./release/app-file.ts";
import { ProjectConfig } from "./release/project-config.ts";
import { ReleaseFile } from "./release/release-file.ts";
import { RootConfig } from "./runtime/root-config.ts";

export const FILE_SCHEMAS: Record<string, z.ZodType> = {
  "release": ReleaseFile,
  "app": AppFile,
  "relup-config": ProjectConfig,
  "appup": AppupFile,
  "relup": RelupFile,
  "root-config": RootConfig,
};

export function jsonSchemaText(name: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return JSON.stringify({ $id: `https://relup.dev/schemas/${name}.schema.json`, ...json }, null, 2) + "\n";
}
