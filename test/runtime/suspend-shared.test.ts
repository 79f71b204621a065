/**
 * A process that uses two modules of one upgrade block (its callback module and a module it declares)
 * is suspended once, but belongs to both modules' suspensions: the code_change of its callback module
 * migrates it whichever module the block suspended first, and the code_change of the other module does
 * not run its callback's codeChange with that module's vsn.
 */
import { describe, expect, it } from "vitest";
import type { Instruction } from "../../src/relup/instruction.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";
import { startServer } from "../../src/runtime/server.ts";
import { gate } from "../helpers/runtime.ts";

const SERVER = (vsn: number) => `
exports.behaviour = "server";
exports.vsn = ${vsn};
exports.init = () => ({ v: ${vsn}, migrations: [] });
exports.handleCall = (req, from, s) => ({ reply: s, state: s });
exports.codeChange = (old, s) => ({ ...s, v: ${vsn}, migrations: [...s.migrations, old] });
`;

function node() {
  const n = new Node({ releaseDir: "/nonexistent" });
  const load = (module: string, code: string, vsn: number) => n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn, sha256: `${module}@${vsn}` }));
  load("a/session", SERVER(1), 1);
  load("a/store", SERVER(1), 1);
  return { n, load };
}

describe("a process using two modules of one block", () => {
  it.each([
    ["its declared module first; both migrate", ["a/store", "a/session"], ["a/store", "a/session"]],
    ["its callback module first; both migrate", ["a/session", "a/store"], ["a/session", "a/store"]],
    ["its declared module first; only its callback module migrates", ["a/store", "a/session"], ["a/session"]],
    ["its declared module first; only the declared module migrates", ["a/store", "a/session"], ["a/store"]],
  ])("is migrated by its callback module's code_change only, when the block suspends %s", async (_order, modules, migrated) => {
    const { n, load } = node();
    const session = await startServer(n.runtime, "a/session", {}, { name: "session", modules: ["a/store"] });
    const store = await startServer(n.runtime, "a/store", {}, { name: "store" });
    // The new code is what load_object_code would have staged; here the loads are done by hand before the script.
    load("a/session", SERVER(2), 2);
    load("a/store", SERVER(2), 2);
    const script: Instruction[] = [
      { op: "point_of_no_return" },
      { op: "suspend", modules },
      { op: "code_change", mode: "up", modules: migrated.map((module) => ({ module, extra: null })) },
      { op: "resume", modules: [...modules].reverse() },
    ];
    await execute(script, { port: n.port, target: { dir: "/nonexistent", apps: [] } });
    // One migration for each process whose callback module migrates (the vsn passed is the current one
    // here, as the script loads nothing itself); none for the others.
    const after = (proc: typeof session, module: string) => (migrated.includes(module) ? { v: 2, migrations: [2] } : { v: 1, migrations: [] });
    expect(session.state).toEqual(after(session, "a/session"));
    expect(store.state).toEqual(after(store, "a/store"));
    expect([session.status, store.status]).toEqual(["running", "running"]);
  });
});

describe("the undo of a suspend that shares a process", () => {
  it("resumes only the processes it suspended itself: a process an earlier suspend holds gets its state back before it handles a message", async () => {
    const seen: unknown[] = ((globalThis as unknown as { __seen: unknown[] }).__seen = []);
    const held = gate();
    (globalThis as unknown as { __held: Promise<void> }).__held = held.promise;
    const n = new Node({ releaseDir: "/nonexistent", log: () => {} });
    const load = (module: string, code: string) => n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn: 1, sha256: module }));
    load("a/a", `exports.behaviour = "server"; exports.init = () => ({ n: 0 });
      exports.codeChange = (v, s) => ({ count: s.n });
      exports.handleCast = (m, s) => { globalThis.__seen.push(s); return s; };
      exports.handleCall = (req, from, s) => ({ reply: "ok", state: s });`);
    load("a/b", `exports.x = 1;`);
    load("a/q", `exports.behaviour = "server"; exports.init = () => ({}); exports.handleCast = async (m, s) => { await globalThis.__held; return s; };`);
    const p = await startServer(n.runtime, "a/a", {}, { modules: ["a/b"] });
    const q = await startServer(n.runtime, "a/q", {}, { modules: ["a/b"] });
    n.runtime.cast(q.pid, "work"); // q is busy: suspending a/b times out
    const script: Instruction[] = [
      { op: "point_of_no_return" },
      { op: "suspend", modules: ["a/a"] },
      { op: "code_change", mode: "up", modules: [{ module: "a/a", extra: null }] },
      { op: "suspend", modules: ["a/b"], timeout: 20 },
    ];
    const run = execute(script, { port: n.port, target: { dir: "/nonexistent", apps: [] } });
    n.runtime.cast(p.pid, "during"); // queued: p is suspended by the first step
    await expect(run).rejects.toThrow(InstallError);
    expect(await n.runtime.call(p.pid, "sync")).toBe("ok");
    expect(seen).toEqual([{ n: 0 }]);
    held.open();
  });
});
