/** The fleet options as a detached launcher's arguments (launcher-main.ts), and read back from them. */
import type { FleetConfig } from "./fleet-config.ts";

export function fleetArgs(config: FleetConfig | undefined): string[] {
  if (!config) return [];
  return ["--fleet", config.endpoints.join(","), "--group", config.group, "--node-id", config.nodeId, "--fleet-lease-ttl", String(config.leaseTtlS)];
}

/** parseArgs options for the same arguments */
export const FLEET_ARG_OPTIONS = {
  fleet: { type: "string" },
  group: { type: "string" },
  "node-id": { type: "string" },
  "fleet-lease-ttl": { type: "string" },
} as const;

export function fleetConfigFromArgs(values: { fleet?: string | undefined; group?: string | undefined; "node-id"?: string | undefined; "fleet-lease-ttl"?: string | undefined }): FleetConfig | undefined {
  if (values.fleet === undefined) return undefined;
  return { endpoints: values.fleet.split(","), group: values.group!, nodeId: values["node-id"]!, leaseTtlS: Number(values["fleet-lease-ttl"]) };
}
