/**
 * The application dependency graph (`applications` of each app): start order and cycles.
 * Applications start after the ones they depend on and stop before them, as OTP's application controller.
 */
import { compareStrings } from "./fs-utils.ts";

interface AppNode {
  name: string;
  applications: readonly string[];
}

/** A cycle as a path that returns to its start (`a → b → a`), or undefined. Dependencies outside the set are ignored. */
export function findAppCycle(apps: readonly AppNode[]): string[] | undefined {
  const byName = new Map(apps.map((a) => [a.name, a]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of [...(byName.get(name)?.applications ?? [])].sort(compareStrings)) {
      if (!byName.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of [...byName.keys()].sort(compareStrings)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Names in start order: dependencies first, ties broken by name. Throws on a cycle (check first). */
export function startOrder(apps: readonly AppNode[]): string[] {
  const byName = new Map(apps.map((a) => [a.name, a]));
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (done.has(name) || !byName.has(name)) return;
    if (depth > byName.size) throw new Error(`application dependency cycle through ${name}`);
    for (const dep of [...byName.get(name)!.applications].sort(compareStrings)) visit(dep, depth + 1);
    done.add(name);
    order.push(name);
  };
  for (const name of [...byName.keys()].sort(compareStrings)) visit(name, 0);
  return order;
}
