/** The release lifecycle commands: unpack, permanent, rollback, remove, releases. */
import path from "node:path";
import type { Argv, CommandModule } from "yargs";
import { rollbackRelease } from "../../apply/rollback-release.ts";
import { controlRequest } from "../../runtime/control-client.ts";
import { listReleases } from "../../runtime/list-releases.ts";
import type { Io } from "../io.ts";
import { parseTimeout } from "../parse-timeout.ts";
import { renderKilled } from "../views/killed-view.ts";
import { renderProgress } from "../views/progress-view.ts";

const root = (y: Argv) => y.option("root", { type: "string", default: "relup-root", describe: "The release root of the running node" });

export function unpackCommand(io: Io): CommandModule<object, { release: string; root: string }> {
  return {
    command: "unpack <release>",
    describe: "Verify a release and unpack it into the node's root (status: unpacked)",
    builder: (y) => root(y.positional("release", { type: "string", demandOption: true, describe: "A release tarball or directory" })).example("$0 unpack _build/calculator-1.1.0.tar.gz --root /srv/calc", "") as never,
    handler: async (argv) => {
      const r = await controlRequest(path.resolve(argv.root), { cmd: "unpack", source: path.resolve(argv.release) });
      if (r.note) io.out(`${r.note}\n`);
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

interface RollbackArgs {
  root: string;
  codeChangeTimeout?: string;
  dryRun: boolean;
}

export function rollbackCommand(io: Io): CommandModule<object, RollbackArgs> {
  return {
    command: "rollback",
    describe: "Go back to the previous release, live, running the plan's other section",
    builder: (y) =>
      root(y)
        .option("code-change-timeout", { type: "string", describe: "How long each process's codeChange may take in this rollback, in ms (at most 2147483647) or \"infinity\" (overrides the plan; default: the plan's, else 5000); on expiry the rollback is undone and the node stays where it was" })
        .option("dry-run", { type: "boolean", default: false, describe: "Only check: find the plan back, read and compile the old code and validate the plan, changing nothing" })
        .example("$0 rollback --root /srv/calc", "")
        .example("$0 rollback --root /srv/calc --code-change-timeout 60000", "roll back an upgrade whose migrations needed a minute") as never,
    handler: async (argv) => {
      const codeChangeTimeout = argv.codeChangeTimeout !== undefined ? parseTimeout("--code-change-timeout", argv.codeChangeTimeout, { infinity: true }) : undefined;
      const started = performance.now();
      const result = await rollbackRelease({
        root: argv.root,
        dryRun: argv.dryRun,
        ...(codeChangeTimeout !== undefined ? { codeChangeTimeout } : {}),
        progress: (event) => {
          const line = renderProgress(event);
          if (line) io.err(`${line}\n`);
        },
      });
      if (result.dryRun) {
        io.out(`check passed: rollback ${result.from} → ${result.to}, ${result.steps} steps, ${result.modules} modules compiled; nothing changed\n`);
        io.out(renderKilled(result.killed, "will be killed at the purge"));
        return;
      }
      io.out(renderKilled(result.killed, "killed at the purge"));
      io.out(`rolled back ${result.from} → ${result.to} in ${Math.round(performance.now() - started)} ms\n`);
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
      const { running, releases: list } = await listReleases(path.resolve(argv.root));
      if (argv.json) return io.out(JSON.stringify(list, null, 2) + "\n");
      io.out(list.map((r) => `${r.name} ${r.version.padEnd(12)} ${r.status}`).join("\n") + "\n");
      if (!running) io.err("no node is running in this root: the statuses are RELEASES's (a node would boot the permanent release)\n");
    },
  };
}
