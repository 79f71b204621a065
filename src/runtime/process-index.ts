/**
 * The process map of a runtime: module → the live processes that use it (callback module or declared
 * modules), so that finding a module's processes is no pass over every process, and the module lists
 * processes share (one frozen array per distinct list, not one per process).
 */
import type { Proc } from "./process.ts";

const NO_PROCS: ReadonlySet<Proc> = new Set();

export class ProcessIndex {
  /** It holds no dead process: a process leaves it as it dies (remove). */
  readonly #byModule = new Map<string, Set<Proc>>();
  /** module lists by their modules */
  readonly #lists = new Map<string, readonly string[]>();

  /** The modules a process uses, its callback module first, as one array shared by every process that uses the same ones. */
  moduleList(module: string, declared: readonly string[] | undefined): readonly string[] {
    const key = declared === undefined || declared.length === 0 ? module : [module, ...declared].join("\n");
    let list = this.#lists.get(key);
    if (list === undefined) this.#lists.set(key, (list = Object.freeze([...new Set([module, ...(declared ?? [])])])));
    return list;
  }

  /**
   * The index's own entry for `module`, not a copy: a loop over it sees the processes that start while
   * it runs and skips those that die before it reaches them (a Set's iteration order is insertion order,
   * and entries added during an iteration are visited).
   */
  usersOf(module: string): ReadonlySet<Proc> {
    return this.#byModule.get(module) ?? NO_PROCS;
  }

  count(module: string): number {
    return this.#byModule.get(module)?.size ?? 0;
  }

  add(proc: Proc): void {
    for (const m of proc.modules) {
      let users = this.#byModule.get(m);
      if (!users) this.#byModule.set(m, (users = new Set()));
      users.add(proc);
    }
  }

  remove(proc: Proc): void {
    for (const m of proc.modules) {
      const users = this.#byModule.get(m);
      users?.delete(proc);
      if (users?.size === 0) this.#byModule.delete(m);
    }
  }
}
