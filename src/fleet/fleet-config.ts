/**
 * The fleet options of `relup start` and `relup fleet status`, checked: etcd endpoints (`--fleet`,
 * comma-separated http(s) URLs), the group (`--group`), the node's id (`--node-id`, default: the host
 * name and a digest of the release root, stable across restarts and distinct for two roots on one
 * host), and the lease's TTL in seconds. Bad values are bad usage (exit 2) naming the option.
 */
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { ExitCode, UserError } from "../errors.ts";
import { FleetName } from "./node-record.ts";

export const DEFAULT_LEASE_TTL_S = 10;

export interface FleetConfig {
  endpoints: string[];
  group: string;
  nodeId: string;
  /** seconds: a node whose launcher stops renewing its lease disappears from the group after this long */
  leaseTtlS: number;
  /** public key files or directories (`--trusted-key`): when any, the agent accepts only releases signed by one */
  trustedKeys?: string[];
}

export function parseEndpoints(text: string, option = "--fleet"): string[] {
  const endpoints = text.split(",").map((e) => e.trim()).filter(Boolean);
  if (endpoints.length === 0) throw usage(`${option} needs etcd's client URLs. Fix: \`${option} http://127.0.0.1:2379\` (comma-separated for several members).`);
  for (const endpoint of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname.length > 1) {
      throw usage(`${option} ${JSON.stringify(endpoint)}: an etcd endpoint is a client URL such as http://10.0.0.5:2379. Fix: give each member's client URL, comma-separated.`);
    }
  }
  return endpoints;
}

export function checkFleetName(option: string, value: string): string {
  const result = FleetName.safeParse(value);
  if (!result.success) throw usage(`${option} ${JSON.stringify(value)}: ${result.error.issues[0]!.message}. Fix: \`${option} web-1\`.`);
  return value;
}

export function defaultNodeId(root: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 100) || "node";
  return `${host}-${createHash("sha256").update(path.resolve(root)).digest("hex").slice(0, 8)}`;
}

export function fleetConfig(options: { root: string; fleet: string; group: string | undefined; nodeId: string | undefined; leaseTtl: number | undefined; trustedKeys?: readonly string[] }): FleetConfig {
  if (options.group === undefined) throw usage("--fleet needs the node's group. Fix: add `--group <name>` (the nodes that run the same release).");
  const leaseTtlS = options.leaseTtl ?? DEFAULT_LEASE_TTL_S;
  if (!Number.isInteger(leaseTtlS) || leaseTtlS < 2 || leaseTtlS > 3600) throw usage(`--fleet-lease-ttl must be whole seconds from 2 to 3600, not ${String(leaseTtlS)}. Fix: \`--fleet-lease-ttl 10\`.`);
  return {
    endpoints: parseEndpoints(options.fleet),
    group: checkFleetName("--group", options.group),
    nodeId: options.nodeId !== undefined ? checkFleetName("--node-id", options.nodeId) : defaultNodeId(options.root),
    leaseTtlS,
    trustedKeys: (options.trustedKeys ?? []).map((file) => path.resolve(String(file))),
  };
}

const usage = (message: string) => new UserError(message, ExitCode.badInput);
