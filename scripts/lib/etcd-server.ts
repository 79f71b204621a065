/**
 * A real etcd on loopback, for the fleet tests (test/helpers/etcd.ts), `npm run demo:fleet` and the fleet
 * bench: Debian's `etcd` binary (package etcd-server; `RELUP_ETCD` names another
 * binary) as a one-member cluster on loopback, with free client and peer ports and a data directory of
 * its own. `startEtcd()` resolves once the server says it serves clients and has answered a read through
 * the etcd3 client (an event, never a sleep); `stop()` ends the process (SIGTERM, SIGKILL if it lingers)
 * and removes its directory; `pause()`/`kill()` and `resume()` take it away and bring it back with its
 * data, on the same ports (etcd going down under a fleet).
 *
 * scripts/ensure-test-packages.mjs installs the binary, or says how, before the tests or the demo run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { Etcd3 } from "etcd3";
import { freePort } from "../../src/net-helpers.ts";

export const ETCD_BINARY = process.env.RELUP_ETCD ?? "etcd";

/** etcd's own log line once its client listener serves (etcd 3.4 and 3.5 word it alike). */
const SERVING = /serving client traffic/;

export interface EtcdServer {
  /** the client URL, `http://127.0.0.1:<port>` */
  endpoint: string;
  pid: number;
  dataDir: string;
  /** etcd's last log lines (JSON, zap), for a failing test's message */
  log(): string[];
  /** SIGTERM (SIGKILL after 10 s), wait for the exit, remove the data directory; safe to call twice */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit; the data directory stays (a test of etcd dying under a fleet) */
  kill(): Promise<void>;
  /** SIGTERM, wait for the exit; the data directory stays, for resume() */
  pause(): Promise<void>;
  /** start it again on the same ports and data (after pause or kill); resolves once it serves clients */
  resume(): Promise<void>;
}

export async function startEtcd(options: { readyTimeoutMs?: number } = {}): Promise<EtcdServer> {
  // A port found free can be taken before etcd binds it: such a start is tried again with other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options.readyTimeoutMs ?? 30_000);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof PortTaken)) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(readyTimeoutMs: number): Promise<EtcdServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "relup-etcd-"));
  const [clientPort, peerPort] = await Promise.all([freePort(), freePort()]);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    ["--name", "relup-test"],
    ["--data-dir", path.join(dataDir, "data")],
    ["--listen-client-urls", endpoint],
    ["--advertise-client-urls", endpoint],
    ["--listen-peer-urls", peer],
    ["--initial-advertise-peer-urls", peer],
    ["--initial-cluster", `relup-test=${peer}`],
    ["--logger", "zap"],
    ["--log-outputs", "stderr"],
  ].flat();
  const lines: string[] = [];
  let running: Running | undefined;
  let removed = false;
  const end = async (signal: NodeJS.Signals) => {
    const current = running;
    running = undefined;
    await current?.end(signal);
  };
  const server: EtcdServer = {
    endpoint,
    get pid() {
      return running?.child.pid ?? -1;
    },
    dataDir,
    log: () => [...lines],
    stop: async () => {
      await end("SIGTERM");
      if (!removed) {
        removed = true;
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    kill: () => end("SIGKILL"),
    pause: () => end("SIGTERM"),
    resume: async () => {
      if (running) return;
      running = await run(args, endpoint, lines, readyTimeoutMs);
    },
  };
  try {
    running = await run(args, endpoint, lines, readyTimeoutMs);
    return server;
  } catch (error) {
    await server.stop();
    throw error;
  }
}

interface Running {
  child: ChildProcess;
  end(signal: NodeJS.Signals): Promise<void>;
}

/** Spawn etcd with `args`; resolves once it serves clients (and answered a read), rejects if it dies or takes too long. */
async function run(args: string[], endpoint: string, lines: string[], readyTimeoutMs: number): Promise<Running> {
  const child = spawn(ETCD_BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const serving = new Promise<void>((resolve) => {
    readline.createInterface({ input: child.stderr! }).on("line", (line) => {
      lines.push(line);
      if (lines.length > 50) lines.shift();
      if (SERVING.test(line)) resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
  const end = async (signal: NodeJS.Signals) => {
    // A binary that could not be spawned (ENOENT) has no process to end.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(force);
  };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd did not serve clients on ${endpoint} within ${readyTimeoutMs} ms:\n${lines.slice(-5).join("\n")}`)), readyTimeoutMs);
  });
  const died = exited.then(({ code, signal }) => {
    const said = lines.slice(-5).join("\n");
    if (/address already in use/.test(said)) throw new PortTaken(said);
    throw new Error(`etcd exited (${signal ?? `code ${code}`}) before it served clients:\n${said}`);
  });
  try {
    await Promise.race([serving.then(() => firstRead(endpoint)), died, expired, spawnError]);
    return { child, end };
  } catch (error) {
    await end("SIGKILL");
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`${ETCD_BINARY}: not found. The fleet tests and demo need etcd: \`apt-get update && apt-get install -y etcd-server\` (as root), or set RELUP_ETCD to an etcd binary`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** One read through the client the fleet uses: the server answers requests, not only accepts connections. */
async function firstRead(endpoint: string): Promise<void> {
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 5_000 });
  try {
    await client.get("relup-test/ready").string();
  } finally {
    client.close();
  }
}
