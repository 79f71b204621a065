/** The fleet options as a detached launcher's arguments (launcher-main.ts), and read back from them. */
import type { FleetConfig } from "./fleet-config.ts";

export function fleetArgs(config: FleetConfig | undefined): string[] {
  if (!config) return [];
  return ["--fleet", config.endpoints.join(","), "--group", config.group, "--node-id", config.nodeId, "--fleet-lease-ttl", String(config.leaseTtlS), ...(config.trustedKeys ?? []).flatMap((file) => ["--trusted-key", file])];
}

/** parseArgs options for the same arguments */
export const FLEET_ARG_OPTIONS = {
  fleet: { type: "string" },
  group: { type: "string" },
  "node-id": { type: "string" },
  "fleet-lease-ttl": { type: "string" },
  "trusted-key": { type: "string", multiple: true },
} as const;

export function fleetConfigFromArgs(values: { fleet?: string | undefined; group?: string | undefined; "node-id"?: string | undefined; "fleet-lease-ttl"?: string | undefined; "trusted-key"?: string[] | undefined }): FleetConfig | undefined {
  if (values.fleet === undefined) return undefined;
  return { endpoints: values.fleet.split(","), group: values.group!, nodeId: values["node-id"]!, leaseTtlS: Number(values["fleet-lease-ttl"]), trustedKeys: values["trusted-key"] ?? [] };
}
