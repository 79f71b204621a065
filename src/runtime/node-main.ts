/**
 * The entry point of a node process, started by the launcher: `node-main.ts --root DIR --version V`.
 * Boots release V from ROOT/releases/V, opens the control socket, reports `ready` to the launcher over
 * IPC, and logs one JSON object per line on stdout. SIGTERM or a `stop` request stops the applications
 * in reverse order and ends the process; a fatal error exits non-zero so the launcher restarts it.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { openControlServer, type ControlServer } from "./control-server.ts";
import { Node } from "./node.ts";
import { ReleaseHandler } from "./release-handler.ts";
import { assertNever } from "../errors.ts";
import { releaseDirOf } from "./releases-file.ts";

const { values } = parseArgs({ options: { root: { type: "string" }, version: { type: "string" } } });
const root = path.resolve(values.root!);
const version = values.version!;

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + "\n");
}

let control: ControlServer | undefined;
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.send?.({ type: "stopping" });
  try {
    await node.stop();
  } catch (error) {
    log("stop failed", { error: (error as Error).message });
  }
  await control?.close();
  log("node exit", { code });
  process.exit(code);
}

const configFile = path.join(root, "config.json");
const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, "utf8")) as Record<string, Record<string, never>>) : undefined;
const node = new Node({
  releaseDir: releaseDirOf(root, version),
  ...(config ? { config } : {}),
  log,
  onFatal: (reason) => {
    log("fatal", { reason });
    process.exit(1);
  },
});

process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
process.on("uncaughtException", (error) => {
  log("uncaught exception", { error: error.stack ?? String(error) });
  process.exit(1);
});
process.on("unhandledRejection", (error) => log("unhandled rejection", { error: (error as Error)?.stack ?? String(error) }));

try {
  await node.boot();
  const handler = new ReleaseHandler(node, root);
  control = await openControlServer(root, async (request, progress) => {
    switch (request.cmd) {
      case "ping":
        return "pong";
      case "status":
        return { ...node.status(), root };
      case "processes":
        return node.processes();
      case "stop":
        setImmediate(() => void stop(0));
        return { stopping: true };
      case "releases":
        return handler.releases();
      case "unpack":
        return handler.unpack(request.source);
      case "check":
        return handler.check(request.version, request.plan);
      case "install":
        return handler.install(request.version, request.plan, progress);
      case "permanent":
        return handler.permanent(request.version);
      case "rollback":
        return handler.rollback(progress);
      case "remove":
        return handler.remove(request.version);
      default:
        return assertNever(request);
    }
  });
  process.send?.({ type: "ready", pid: process.pid, version });
  log("ready", { pid: process.pid, version });
} catch (error) {
  log("boot failed", { error: (error as Error).stack ?? String(error) });
  process.send?.({ type: "boot-failed", error: (error as Error).message });
  process.exit(1);
}
