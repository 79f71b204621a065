/**
 * The fleet membership of a launcher (`relup start --fleet`): joins the group before the node boots (so a
 * wrong endpoint or a taken id fails the start, and nothing runs unregistered), follows the launcher,
 * and logs to ROOT/log/fleet.jsonl (never through a link). `stop()` leaves the group and closes the log.
 */
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { LogFile } from "../runtime/log-file.ts";
import type { Launcher } from "../runtime/launcher.ts";
import { readBootable } from "../runtime/read-bootable.ts";
import { APPEND_NOFOLLOW, openNoFollow } from "../runtime/root-trust.ts";
import type { FleetConfig } from "./fleet-config.ts";
import { FleetMember } from "./fleet-member.ts";
import { NodeAgent } from "./node-agent.ts";
import { readTrustedKeys } from "./signing-keys.ts";

const RELUP_VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export interface Membership {
  member: FleetMember;
  attach(launcher: Launcher): void;
  stop(): Promise<void>;
}

/**
 * How often (ms) the launcher refreshes the node's record (the release it runs, its health) and the agent
 * looks again: `options.refreshMs`, else RELUP_FLEET_REFRESH_MS (whole milliseconds, at least 50), else 5 s.
 */
export function fleetRefreshMs(given: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (given !== undefined) return given;
  const text = env.RELUP_FLEET_REFRESH_MS;
  const ms = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : undefined;
  return ms !== undefined && ms >= 50 ? ms : 5_000;
}

export async function startMembership(root: string, config: FleetConfig, options: { refreshMs?: number } = {}): Promise<Membership> {
  const refreshMs = fleetRefreshMs(options.refreshMs);
  const bootable = await readBootable(root);
  // Read before joining: a bad key file fails the start with nothing registered.
  const trusted = config.trustedKeys?.length ? await readTrustedKeys(config.trustedKeys) : undefined;
  await mkdir(path.join(root, "log"), { recursive: true, mode: 0o755 });
  const log = new LogFile(openNoFollow(path.join(root, "log", "fleet.jsonl"), APPEND_NOFOLLOW));
  const write = (event: string, fields: Record<string, unknown>) => log.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));
  let member: FleetMember;
  try {
    member = await FleetMember.join({ config, root, releaseName: bootable?.releases.name ?? "unknown", relupVersion: RELUP_VERSION, log: write, refreshMs });
  } catch (error) {
    write("fleet join failed", { error: (error as Error).message });
    await log.end();
    throw error;
  }
  let agent: NodeAgent | undefined;
  return {
    member,
    attach: (launcher) => {
      member.attach(launcher);
      // The agent converges the node once it is up: the root's own release boots first.
      launcher.on("ready", () => {
        if (agent) agent.nodeReady();
        else agent = NodeAgent.start({ config, root, member, log: write, refreshMs, ...(trusted ? { trusted } : {}) });
      });
    },
    stop: async () => {
      await agent?.stop();
      await member.stop();
      write("fleet left", { key: member.key });
      await log.end();
    },
  };
}
