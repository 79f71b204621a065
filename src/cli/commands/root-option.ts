import type { Argv } from "yargs";

/** `--root`: the release root of the running node, for the commands that ask it. */
export const rootOption = <T>(y: Argv<T>) => y.option("root", { type: "string", default: "relup-root", describe: "The release root of the running node" });

export interface JsonRootArgs {
  root: string;
  json: boolean;
}

/** `--root` and `--json`, for the commands that print what the node answers. */
export const jsonRootOptions = <T>(y: Argv<T>) =>
  y.option("root", { type: "string", default: "relup-root", describe: "The release root of the node" }).option("json", { type: "boolean", default: false, describe: "Print JSON" });
