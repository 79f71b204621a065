/**
 * The worker module of the fleet benches (fleet-figures.ts, observe-figures.ts): a `server` whose state is
 * `{count, items}` in version 1 and is migrated by codeChange to `{schema: 2, count, items, tags,
 * migratedFrom}` in version 2. Version 2 also answers `{bare: n}` with the time of its own codeChange over
 * n plain states in a for loop (the bare loop the fleet pause is compared with). `buildWorkerReleases`
 * builds both versions of the fleet release (test/helpers/fleet.ts) with them.
 */
import path from "node:path";
import { buildRelease } from "../src/relup/build-with-plans.ts";
import { writeFleet } from "../test/helpers/fleet.ts";

/** Versions 1.0.0 and 2.0.0 of the fleet release, built under `work`: their tarballs. */
export async function buildWorkerReleases(work: string): Promise<{ v1: { tarball: string }; v2: { tarball: string } }> {
  const out = path.join(work, "build");
  const v1 = await buildRelease({ dir: await writeFleet(work, { version: "1.0.0", worker: WORKER_V1 }), out });
  const v2 = await buildRelease({ dir: await writeFleet(work, { version: "2.0.0", worker: WORKER_V2 }), out });
  return { v1, v2 };
}
export const WORKER_V1 = `
export const behaviour = "server";
export const vsn = 1;
export function init(args: { id: number }) { return { count: args.id, items: ["a", "b", "c"] }; }
export function handleCall(req: string, _from: unknown, state: unknown) { return { reply: req === "code" ? 1 : state, state }; }
`;
export const WORKER_V2 = `
export const behaviour = "server";
export const vsn = 2;
export function init(args: { id: number }) { return { schema: 2, count: args.id, items: ["a", "b", "c"], tags: [], migratedFrom: null }; }
export function handleCall(req: unknown, _from: unknown, state: unknown) {
  if (typeof req === "object" && req !== null && "bare" in req) return { reply: bareLoop((req as { bare: number }).bare), state };
  return { reply: req === "code" ? 2 : state, state };
}
/** The baseline: this module's codeChange over n plain states in a for loop, in this node; the loop alone is timed. */
function bareLoop(n: number) {
  const states = Array.from({ length: n }, (_, id) => ({ count: id, items: ["a", "b", "c"] }));
  const migrated = new Array(n);
  const started = performance.now();
  for (let i = 0; i < n; i++) migrated[i] = codeChange(1, states[i]);
  return performance.now() - started;
}
export function codeChange(old: unknown, state: any) {
  if (old === 1) return { schema: 2, count: state.count, items: state.items, tags: ["migrated"], migratedFrom: old };
  return { count: state.count, items: state.items };
}
`;
