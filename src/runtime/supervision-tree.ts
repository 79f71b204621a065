/**
 * The supervision trees of a node, read-only (OTP's observer "Applications" tab): each application's top
 * process and, under every supervisor, its children in start order, each with its child id, module,
 * pid, status, queue length, restart type and how many times its supervisor restarted it.
 *
 * Bounded, whatever the number of processes: a supervisor lists at most `limit` children (from `offset`,
 * for the one asked for by pid) and says how many it has; past `budget` nodes in all, supervisors are
 * listed without their children (`childCount` only), for a reader to ask for them by pid.
 */
import type { ApplicationController } from "./application-controller.ts";
import type { Pid, Proc } from "./process.ts";
import type { Runtime } from "./runtime.ts";
import type { SupState } from "./supervisor.ts";

export interface TreeNode {
  /** null: a child its supervisor knows but that runs no process now (restarting, or a transient child that ended) */
  pid: Pid | null;
  module: string;
  /** the child id in its supervisor's spec (absent for an application's top process) */
  id?: string;
  name?: string;
  behaviour: "server" | "supervisor";
  status: Proc["status"] | "not running";
  queue: number;
  restart?: "permanent" | "transient" | "temporary";
  /** how many times its supervisor restarted it since the node booted */
  restarts?: number;
  /** a supervisor's number of children; `children` lists those from `offset` (if it was expanded) */
  childCount?: number;
  offset?: number;
  children?: TreeNode[];
}

export interface TreeOptions {
  /** children listed per supervisor (default 100, at most 1,000) */
  limit?: number;
  /** for the supervisor asked for by pid: the first child listed */
  offset?: number;
  /** nodes in all before supervisors are no longer expanded (default 2,000) */
  budget?: number;
}

export interface ApplicationTree {
  name: string;
  version: string;
  status: string;
  top: TreeNode | null;
}

export function applicationTrees(runtime: Runtime, controller: ApplicationController, options: TreeOptions = {}): ApplicationTree[] {
  const walk = walker(runtime, options);
  return controller.list().map((app) => {
    const top = app.top ? runtime.get(app.top) : undefined;
    return { name: app.name, version: app.version, status: app.status, top: top ? walk(top, {}, 0) : null };
  });
}

/** The subtree of one process (a supervisor's children from `offset`), or undefined if it is not alive. */
export function subtree(runtime: Runtime, pid: Pid, options: TreeOptions = {}): TreeNode | undefined {
  const proc = runtime.get(pid);
  return proc ? walker(runtime, options)(proc, {}, options.offset ?? 0) : undefined;
}

function walker(runtime: Runtime, options: TreeOptions) {
  const limit = Math.min(options.limit ?? 100, 1_000);
  let left = options.budget ?? 2_000;
  const walk = (proc: Proc, child: Pick<TreeNode, "id" | "restart" | "restarts">, offset: number): TreeNode => {
    left--;
    const node: TreeNode = { pid: proc.pid, module: proc.module, ...child, ...(proc.name !== undefined ? { name: proc.name } : {}), behaviour: proc.behaviour.kind, status: proc.status, queue: proc.mailbox.length };
    if (proc.behaviour.kind !== "supervisor") return node;
    const children = (proc.state as SupState | undefined)?.children ?? [];
    node.childCount = children.length;
    // Breadth before depth would be fairer to deep trees; supervision trees are shallow and wide.
    if (left <= 0) return node;
    node.offset = offset;
    node.children = children.slice(offset, offset + limit).map((c) => {
      const about = { id: c.spec.id, restart: c.spec.restart, restarts: c.restarts ?? 0 };
      const running = c.pid !== undefined ? runtime.get(c.pid) : undefined;
      if (running && left > 0) return walk(running, about, 0);
      left--;
      return { pid: running?.pid ?? null, module: c.spec.module, ...about, behaviour: runtime.table.isLoaded(c.spec.module) && runtime.table.namespace(c.spec.module).behaviour === "supervisor" ? "supervisor" : "server", status: running?.status ?? "not running", queue: running?.mailbox.length ?? 0 };
    });
    return node;
  };
  return walk;
}
