/**
 * What the rollout fault tests share (test/fleet/rollout/rollout-faults*.test.ts): real `--fleet` counter
 * nodes started in parallel (each bumped, its in-memory state), readers of their state, node records,
 * rollout records and install journals, and the driver as a real process to kill or freeze.
 */
import { spawn } from "node:child_process";
import { expect } from "vitest";
import { NodeRecord } from "../../src/fleet/node-record.ts";
import { RolloutRecord } from "../../src/fleet/rollout-record.ts";
import { get } from "../../src/net-helpers.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import type { InstallRecord } from "../../src/runtime/install-journal.ts";
import { useFleetNodes } from "./fleet-nodes.ts";
import { BIN } from "./relup-cli.ts";

export type RolloutNode = { result: { code: number | null; stderr: string }; root: string; port: number; nodePid: number };

/** Starts nodes of `release()` in group calc, in parallel; each bumped `bumps` times (its in-memory state). */
export function useRolloutNodes(tempDir: () => Promise<string>, release: () => string, env: Record<string, string>) {
  const startFleetNode = useFleetNodes(tempDir, release, env);
  return async (endpoint: string, ids: string[], extra: string[] = [], bumps = 3): Promise<RolloutNode[]> => {
    const nodes = await Promise.all(ids.map((id) => startFleetNode(endpoint, id, extra)));
    for (const node of nodes) {
      expect(node.result, node.result.stderr).toMatchObject({ code: 0 });
      for (let i = 0; i < bumps; i++) await get(node.port, "/bump");
    }
    return nodes;
  };
}

export const nodeIds = (prefix: string, n = 5) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
export const counterState = async (node: { port: number }) => JSON.parse(await get(node.port, "/state")) as { count: number; v?: number };
export const parseNode = (v: string | undefined) => (v === undefined ? undefined : NodeRecord.parse(JSON.parse(v)));
export const rolloutIs = (until: (r: RolloutRecord) => boolean) => (v: string | undefined) => v !== undefined && until(RolloutRecord.parse(JSON.parse(v)));

/** The node's install journal (the `journal` control request): its recent installs and rollbacks, oldest first. */
export async function journalOf(node: { root: string }): Promise<InstallRecord[]> {
  return ((await controlRequest(node.root, { cmd: "journal" })) as { records: InstallRecord[] }).records;
}

/** The driver as a real process, to kill: resolves its exit. */
export function driverProcess(argv: string[]) {
  const child = spawn(process.execPath, [BIN, ...argv], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let said = "";
  child.stderr!.on("data", (chunk: Buffer) => (said += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, exited, said: () => said, kill: async () => (child.kill("SIGKILL"), await exited) };
}
