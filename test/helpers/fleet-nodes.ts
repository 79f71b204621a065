/**
 * What the fleet tests share: etcd clients closed after each test, and detached calculator nodes started
 * with `relup start --fleet` in roots of their own (stopped after each test by useDetachedLaunchers).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Etcd3 } from "etcd3";
import { afterEach } from "vitest";
import { freePort } from "../../src/net-helpers.ts";
import { useDetachedLaunchers } from "./detached.ts";
import { relup } from "./relup-cli.ts";

/** The pid of the detached launcher of `root` (its run/launcher.pid). */
export const launcherPid = async (root: string) => Number((await readFile(path.join(root, "run", "launcher.pid"), "utf8")).trim());

/** A function that makes an etcd client for an endpoint; every client it made is closed after each test. */
export function useEtcdClients(): (endpoint: string) => Etcd3 {
  const clients: Etcd3[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  return (endpoint) => {
    const c = new Etcd3({ hosts: endpoint });
    clients.push(c);
    return c;
  };
}

/**
 * Starts nodes of `release()` in group calc: `relup start <release> --detach --fleet …` in a new root, with
 * its own HTTP port (PORT) and `env` (RELUP_FLEET_REFRESH_MS, say) for the launcher and its node.
 */
export function useFleetNodes(tempDir: () => Promise<string>, release: () => string, env: Record<string, string> = {}) {
  const detached = useDetachedLaunchers();
  return async (endpoint: string, id: string, extra: string[] = []) => {
    const root = path.join(await tempDir(), "root");
    detached.root(root);
    const port = await freePort();
    const result = await relup(["start", release(), "--root", root, "--detach", "--fleet", endpoint, "--group", "calc", "--node-id", id, ...extra], { ...env, PORT: String(port) });
    return { result, root, port, nodePid: Number(result.stdout.trim()) };
  };
}
