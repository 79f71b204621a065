/**
 * pm2 for the bench: its own CLI (the devDependency, never a global install) with PM2_HOME in a directory
 * of the bench's own, so the daemon it starts is the bench's alone; `kill` stops that daemon and its
 * workers, and removes the directory. pm2's update check is off (the `touch` file that marks a PM2_HOME
 * as already used, and PM2_DISABLE_VERSION_CHECK for the daemon's daily check): the bench asks nothing
 * of the network.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { z } from "zod";

const run = promisify(execFile);
const pm2Bin = path.join(path.dirname(createRequire(import.meta.url).resolve("pm2/package.json")), "bin", "pm2");

const listSchema = z.array(
  z.object({
    pid: z.number(),
    name: z.string(),
    pm_id: z.number(),
    pm2_env: z.object({ status: z.string(), exec_mode: z.string(), restart_time: z.number() }),
  }),
);

export interface Pm2Worker {
  name: string;
  id: number;
  pid: number;
  /** online, launching, stopping, stopped, errored */
  status: string;
  /** cluster_mode or fork_mode */
  mode: string;
  restarts: number;
}

/**
 * The processes in `pm2 jlist`'s output: one line of JSON (an array, one element per worker), possibly
 * after lines of pm2's own messages. Anything else is an error that quotes what pm2 printed.
 */
export function parsePm2List(stdout: string): Pm2Worker[] {
  const line = stdout.split("\n").find((l) => /^\s*\[\s*(\{|\])/.test(l));
  if (line === undefined) throw new Error(`pm2 jlist printed no JSON list of processes: ${JSON.stringify(stdout.slice(0, 200))}`);
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw new Error(`pm2 jlist printed a list that is not JSON (${(error as Error).message}): ${JSON.stringify(line.slice(0, 200))}`);
  }
  const parsed = listSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`pm2 jlist: process ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data.map((p) => ({ name: p.name, id: p.pm_id, pid: p.pid, status: p.pm2_env.status, mode: p.pm2_env.exec_mode, restarts: p.pm2_env.restart_time }));
}

export class Pm2 {
  readonly home: string;
  #env: NodeJS.ProcessEnv;

  private constructor(home: string, env: NodeJS.ProcessEnv) {
    this.home = home;
    this.#env = env;
  }

  /** A new PM2_HOME at `home` (created here, removed by `kill`); `env` is what the CLI and so the daemon and its workers get. */
  static async create(home: string, env: NodeJS.ProcessEnv): Promise<Pm2> {
    await mkdir(home, { recursive: true });
    await writeFile(path.join(home, "touch"), String(Date.now()));
    return new Pm2(home, { ...env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: "true" });
  }

  /** Runs `pm2 <args>` in `cwd` and returns what it printed; a non-zero exit throws with its output. */
  async cli(args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    try {
      const { stdout } = await run(process.execPath, [pm2Bin, ...args], { cwd, env: { ...this.#env, ...extraEnv }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`pm2 ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
  }

  async list(cwd: string): Promise<Pm2Worker[]> {
    return parsePm2List(await this.cli(["jlist"], cwd));
  }

  /** The last lines of the daemon's log and of the workers' error logs, for a failure message. */
  async logTail(lines = 30): Promise<string> {
    const tail = async (file: string) => (await readFile(file, "utf8").catch(() => "")).split("\n").slice(-lines).join("\n");
    return [`== pm2.log`, await tail(path.join(this.home, "pm2.log")), `== calculator-error-0.log`, await tail(path.join(this.home, "logs", "calculator-error-0.log"))].join("\n");
  }

  /**
   * `pm2 kill` (stops every worker, then the daemon); if the daemon is still alive after that, SIGKILL
   * to its process group (the daemon starts detached, as the leader of its own group, and its workers
   * are in that group). Then removes PM2_HOME.
   */
  async kill(): Promise<void> {
    const daemonPid = Number((await readFile(path.join(this.home, "pm2.pid"), "utf8").catch(() => "")).trim()) || undefined;
    // Without a daemon, `pm2 kill` would start one to stop it.
    if (daemonPid !== undefined && alive(daemonPid)) await this.cli(["kill"], this.home).catch((error: Error) => process.stderr.write(`${error.message}\n`));
    // The daemon exits just after answering `kill`: give it a moment before forcing it.
    for (const started = performance.now(); daemonPid !== undefined && alive(daemonPid) && performance.now() - started < 3_000; ) await new Promise((resolve) => setTimeout(resolve, 50));
    if (daemonPid !== undefined && alive(daemonPid)) {
      try {
        process.kill(-daemonPid, "SIGKILL");
      } catch {
        if (alive(daemonPid)) process.kill(daemonPid, "SIGKILL");
      }
    }
    await rm(this.home, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
