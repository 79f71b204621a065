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
import { SignatureFile } from "./fleet/signature-file.ts";
import { PublishedRecord } from "./fleet/published-record.ts";
import { NodeRecord } from "./fleet/node-record.ts";
import { DesiredRecord } from "./fleet/desired-record.ts";
import { RolloutRecord } from "./fleet/rollout-record.ts";

export const FILE_SCHEMAS: Record<string, z.ZodType> = {
  "release": ReleaseFile,
  "app": AppFile,
  "relup-config": ProjectConfig,
  "appup": AppupFile,
  "relup": RelupFile,
  "root-config": RootConfig,
  "signature": SignatureFile,
  "published-release": PublishedRecord,
  "fleet-node": NodeRecord,
  "fleet-desired": DesiredRecord,
  "fleet-rollout": RolloutRecord,
};

export function jsonSchemaText(name: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" });
  return JSON.stringify({ $id: `https://relup.dev/schemas/${name}.schema.json`, ...(withoutUnionTypes(json) as object) }, null, 2) + "\n";
}

/**
 * A union of primitive types as `anyOf`, not `type: [...]`: validators in strict mode (ajv) refuse union
 * types unless told to allow them, and the published schemas must compile there as they are.
 */
function withoutUnionTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutUnionTypes);
  if (typeof node !== "object" || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "type" && Array.isArray(value)) out.anyOf = value.map((type: unknown) => ({ type }));
    else out[key] = withoutUnionTypes(value);
  }
  return out;

}
