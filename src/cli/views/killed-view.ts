import type { KilledProcesses } from "../../runtime/release-handler.ts";

/** The processes a purge kills because they still ran a removed module: one line each, or nothing. */
export function renderKilled(killed: readonly KilledProcesses[], verb: string): string {
  const lines = killed.flatMap(({ module, processes }) => processes.map((p) => `  ${p.pid}${p.name !== null ? ` (${p.name})` : ""} still runs ${module}, which the plan removes\n`));
  if (lines.length === 0) return "";
  return `${lines.length} process${lines.length === 1 ? "" : "es"} ${verb} (exit reason killed; links and monitors are told):\n${lines.join("")}`;
}
