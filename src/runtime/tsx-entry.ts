/** Arguments that run one of relup's TypeScript entry points in a new Node process, through tsx. */
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

export function tsEntryArgs(entry: string): string[] {
  return ["--import", pathToUrl(require.resolve("tsx")), path.join(import.meta.dirname, entry)];
}

function pathToUrl(file: string): string {
  return new URL(`file://${file}`).href;
}
