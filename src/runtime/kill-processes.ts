/**
 * Killing the processes that still run a removed module (OTP's brutal purge), on the runtime itself: the
 * executor's purge step does it through its port (runtime-port.ts), the release handler when a release is
 * made permanent. A killed supervised child leaves its supervisor first, spec and all, so that nothing
 * restarts it; what the kill returns says how to put the spec back and start the child again.
 */
import { ROLLBACK_WAIT_MS, settlesWithin } from "./bounded-wait.ts";
import type { Clock } from "./clock.ts";
import type { Pid, Proc, ProcId } from "./process.ts";
import type { Runtime } from "./runtime.ts";
import { childrenUsing, detachChild } from "./supervisor.ts";

/** A process by pid, registered name and callback module, as reports name it. */
export interface ProcessRef {
  pid: Pid;
  name: string | null;
  module: string;
}

export const processRef = (p: Proc): ProcessRef => ({ pid: p.pid, name: p.name ?? null, module: p.module });

/** "<0.7.0> (loner), <0.9.0>" */
export const describeProcesses = (procs: readonly ProcessRef[]): string => procs.map((p) => `${p.pid}${p.name !== null ? ` (${p.name})` : ""}`).join(", ");

export interface Kills {
  /** every doomed process that was alive, killed directly or by a link to another one */
  killed: ProcessRef[];
  /** the supervised ones, taken out of their supervisors (spec and all) */
  detached: NonNullable<ReturnType<typeof detachChild>>[];
  /** settles when the links of the killed processes were told */
  exited: Promise<void>;
}

/**
 * Kill the processes still running removed modules (module → processes; exit reason `killed`), all in one
 * synchronous pass: first none of them handles another message, then each supervised one leaves its
 * supervisor (which neither restarts it nor retries it later), then each dies.
 */
export function killAll(runtime: Runtime, doomed: ReadonlyMap<string, readonly Proc[]>, onKilled?: (module: string, process: ProcessRef) => void): Kills {
  const alive = [...doomed].flatMap(([module, procs]) => procs.filter((p) => p.status !== "dead").map((p) => ({ module, p })));
  if (alive.length === 0) return { killed: [], detached: [], exited: Promise.resolve() };
  for (const { p } of alive) runtime.hold(p);
  const supervisorOf = new Map<ProcId, ProcId>();
  for (const module of doomed.keys()) for (const c of childrenUsing(runtime, module)) if (c.pid !== undefined) supervisorOf.set(c.pid, c.sup);
  const detached: Kills["detached"] = [];
  for (const { p } of alive) {
    const supPid = supervisorOf.get(p.id);
    const sup = supPid !== undefined ? runtime.get(supPid) : undefined;
    const child = sup && detachChild(runtime, sup, p.id);
    if (child) detached.push(child);
  }
  const killed = alive.map(({ module, p }) => ({ module, ref: processRef(p) }));
  const exits = alive.map(({ p }) => runtime.exit(p, "kill"));
  for (const { module, ref } of killed) onKilled?.(module, ref);
  return { killed: killed.map((k) => k.ref), detached, exited: Promise.all(exits).then(() => undefined) };
}

/**
 * The linked processes of those killed exit too, running their terminate: waited for at most
 * ROLLBACK_WAIT_MS on `on.clock`, then the caller goes on (logged): a terminate that never returns holds
 * no install.
 */
export async function waitForKills(kills: Kills, on: { clock: Clock; log: (event: string, fields: Record<string, unknown>) => void }): Promise<void> {
  if (await settlesWithin(on.clock, kills.exited, ROLLBACK_WAIT_MS)) return;
  on.log("purge went on before the processes linked to those it killed had ended: their terminate did not return in time", { killed: describeProcesses(kills.killed), timeoutMs: ROLLBACK_WAIT_MS });
}
