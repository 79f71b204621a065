/** The release lifecycle commands: unpack, permanent, rollback, remove, releases. */
import path from "node:path";
import type { Argv, CommandModule } from "yargs";
import { controlRequest } from "../../runtime/control-client.ts";
import type { Progress } from "../../runtime/executor.ts";
import type { Io } from "../io.ts";
import { renderProgress } from "../views/progress-view.ts";

const root = (y: Argv) => y.option("root", { type: "string", default: "relup-root", describe: "The release root of the running node" });

export function unpackCommand(io: Io): CommandModule<object, { release: string; root: string }> {
  return {
    command: "unpack <release>",
    describe: "Verify a release and unpack it into the node's root (status: unpacked)",
    builder: (y) => root(y.positional("release", { type: "string", demandOption: true, describe: "A release tarball or directory" })).example("$0 unpack _build/calculator-1.1.0.tar.gz --root /srv/calc", "") as never,
    handler: async (argv) => {
      const r = (await controlRequest(path.resolve(argv.root), { cmd: "unpack", source: path.resolve(argv.release) })) as { version: string; existed: boolean };
      io.out(r.existed ? `${r.version} is already unpacked (same build)\n` : `unpacked ${r.version}\n`);
    },
  };
}

// The version positional is `vsn`, as in OTP: yargs owns `version` (`relup --version`), and a positional of
// that name would be read as its boolean flag.
export function permanentCommand(io: Io): CommandModule<object, { vsn: string; root: string }> {
  return {
    command: "permanent <vsn>",
    describe: "Make the current release permanent: the node boots it from now on",
    builder: (y) => root(y.positional("vsn", { type: "string", demandOption: true, describe: "The version of the running release" })).example("$0 permanent 1.1.0 --root /srv/calc", "") as never,
    handler: async (argv) => {
      await controlRequest(path.resolve(argv.root), { cmd: "permanent", version: argv.vsn });
      io.out(`${argv.vsn} is permanent\n`);
    },
  };
}

export function rollbackCommand(io: Io): CommandModule<object, { root: string }> {
  return {
    command: "rollback",
    describe: "Go back to the previous release, live, running the plan's other section",
    builder: (y) => root(y).example("$0 rollback --root /srv/calc", "") as never,
    handler: async (argv) => {
      const r = (await controlRequest(path.resolve(argv.root), { cmd: "rollback" }, { onProgress: (e) => io.err(`${renderProgress(e as Progress) ?? ""}\n`) })) as { from: string; to: string };
      io.out(`rolled back ${r.from} → ${r.to}\n`);
    },
  };
}

export function removeCommand(io: Io): CommandModule<object, { vsn: string; root: string }> {
  return {
    command: "remove <vsn>",
    describe: "Delete an unpacked or old release from the root",
    builder: (y) => root(y.positional("vsn", { type: "string", demandOption: true, describe: "The version of an unpacked or old release" })).example("$0 remove 1.0.0 --root /srv/calc", "") as never,
    handler: async (argv) => {
      await controlRequest(path.resolve(argv.root), { cmd: "remove", version: argv.vsn });
      io.out(`removed ${argv.vsn}\n`);
    },
  };
}

export function releasesCommand(io: Io): CommandModule<object, { root: string; json: boolean }> {
  return {
    command: "releases",
    describe: "The releases of the root and their status: unpacked, current, permanent, old",
    builder: (y) => root(y).option("json", { type: "boolean", default: false }).example("$0 releases --root /srv/calc", "") as never,
    handler: async (argv) => {
      const list = (await controlRequest(path.resolve(argv.root), { cmd: "releases" })) as { name: string; version: string; status: string }[];
      io.out(argv.json ? JSON.stringify(list, null, 2) + "\n" : list.map((r) => `${r.name} ${r.version.padEnd(12)} ${r.status}`).join("\n") + "\n");
    },
  };
}
