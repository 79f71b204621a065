/**
 * The application controller across a rolled-back install, on an in-memory node:
 * - a snapshot puts back an application's spec (app file, defaults, env), never its live fields: after
 *   a stop and a start in the same script, the controller watches the top supervisor that runs;
 * - an application stopped by the install comes back with the start type it ran with (rollback, and a
 *   start without a type: restart_application);
 * - every user callback an install awaits (configChange, apply M:F, an application's start and stop)
 *   has a timeout: the step fails naming the module or application and the fix, the install rolls back.
 */
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { execute, InstallError } from "../../src/runtime/executor.ts";
import { Node } from "../../src/runtime/node.ts";

const ponr: Instruction = { op: "point_of_no_return" };
const fail: Instruction = { op: "apply", module: "a/fail", function: "now", args: [] };
const app = (env: Record<string, unknown>, version = "1.0.0"): AppFile => ({ format: 1, name: "a", version, start: "app", applications: [], env: env as never, modules: [] });

/** A node with modules given as CommonJS source; `fatal` collects what would take the node down. */
function node(modules: Record<string, string>) {
  const fatal: string[] = [];
  const n = new Node({ releaseDir: "/nonexistent", onFatal: (reason) => fatal.push(reason) });
  let vsn = 1;
  for (const [module, code] of Object.entries({ "a/fail": `exports.now = () => { throw new Error("a later step fails"); };`, ...modules })) {
    n.table.load(n.table.compile(module, code, `/virtual/${module}.js`, { vsn: vsn, sha256: String(vsn++) }));
  }
  return { node: n, fatal };
}

const SUP = `exports.behaviour = "supervisor"; exports.init = () => ({ children: [] });`;
const APP = `const { startSupervisor } = require("relup/runtime"); exports.behaviour = "application"; exports.start = () => startSupervisor("a/top", {});`;

describe("application snapshots restore the spec, not the live fields", () => {
  for (const envStep of ["set_env_defaults", "config_change"] as const) {
    it(`${envStep}, then stop and start, then a failure: the controller watches the top supervisor that runs`, async () => {
      const { node: n, fatal } = node({ "a/top": SUP, "a/app": APP });
      n.controller.load(app({ port: 1 }));
      await n.controller.start("a");
      const script: Instruction[] = [
        ponr,
        { op: "apply", module: "application", function: envStep, args: ["a", { port: 2 }, {}, []] },
        { op: "apply", module: "application", function: "stop", args: ["a"] },
        { op: "apply", module: "application", function: "start", args: ["a", "permanent"] },
        fail,
      ];
      await expect(execute(script, { port: n.port, target: { dir: "", apps: [app({ port: 2 }, "1.1.0")] } })).rejects.toBeInstanceOf(InstallError);
      const tops = n.runtime.processes().filter((p) => p.module === "a/top");
      expect(tops).toHaveLength(1);
      const entry = n.controller.list()[0]!;
      expect(entry).toMatchObject({ status: "running", version: "1.0.0", top: tops[0]!.pid });
      expect(n.controller.getEnv("a")).toEqual({ port: 1 });
      // A crash of the permanent application's top is noticed, and stop stops the supervisor that runs.
      await n.runtime.exit(tops[0]!, "boom");
      expect(fatal).toEqual([expect.stringContaining("permanent application a exited")]);
    });
  }

  it("stop, then a failure: the running application is stopped through its new top, and stop stops it", async () => {
    const { node: n } = node({ "a/top": SUP, "a/app": APP });
    n.controller.load(app({ port: 1 }));
    await n.controller.start("a");
    const script: Instruction[] = [ponr, { op: "apply", module: "application", function: "set_env_defaults", args: ["a", { port: 2 }, {}, []] }, { op: "apply", module: "application", function: "stop", args: ["a"] }, fail];
    await expect(execute(script, { port: n.port, target: { dir: "", apps: [app({ port: 2 }, "1.1.0")] } })).rejects.toBeInstanceOf(InstallError);
    expect(n.runtime.processes().filter((p) => p.module === "a/top")).toHaveLength(1);
    await n.controller.stop("a");
    expect(n.runtime.processes().filter((p) => p.module === "a/top")).toHaveLength(0);
  });
});

describe("start types survive an install", () => {
  const LIB_APP = `exports.behaviour = "application"; exports.start = () => undefined;`;

  it("the undo of application.stop starts a temporary application as temporary again", async () => {
    const { node: n } = node({ "a/app": LIB_APP });
    n.controller.load(app({}));
    await n.controller.start("a", "temporary");
    await expect(execute([ponr, { op: "apply", module: "application", function: "stop", args: ["a"] }, fail], { port: n.port, target: { dir: "", apps: [app({})] } })).rejects.toBeInstanceOf(InstallError);
    expect(n.controller.startType("a")).toBe("temporary");
    expect(n.controller.list()[0]!.status).toBe("running");
  });

  it("application.start without a type (restart_application) keeps the type the application ran with", async () => {
    const { node: n } = node({ "a/app": LIB_APP });
    n.controller.load(app({}));
    await n.controller.start("a", "transient");
    const script: Instruction[] = [ponr, { op: "apply", module: "application", function: "stop", args: ["a"] }, { op: "apply", module: "application", function: "start", args: ["a"] }];
    await execute(script, { port: n.port, target: { dir: "", apps: [app({}, "1.1.0")] } });
    expect(n.controller.startType("a")).toBe("transient");
    expect(n.controller.list()[0]).toMatchObject({ status: "running", version: "1.1.0" });
  });
});

describe("no user callback of an install waits forever", () => {
  const never = `new Promise(() => {})`;

  it("a configChange that never settles fails the step after the install's code-change timeout, naming the application; the env is rolled back", async () => {
    const { node: n } = node({ "a/app": `exports.behaviour = "application"; exports.start = () => undefined; exports.configChange = () => ${never};` });
    n.controller.load(app({ port: 1 }));
    await n.controller.start("a");
    const script: Instruction[] = [ponr, { op: "apply", module: "application", function: "config_change", args: ["a", { port: 2 }, {}, []] }];
    const error = await execute(script, { port: n.port, target: { dir: "", apps: [app({ port: 2 }, "1.1.0")] }, codeChangeTimeout: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/configChange of a did not settle within 50 ms.*Fix:.*--code-change-timeout/);
    expect((error as InstallError).where.module).toBe("a/app");
    expect(n.controller.getEnv("a")).toEqual({ port: 1 });
  });

  it("an apply M:F that never settles fails the step, naming the function", async () => {
    const { node: n } = node({ "a/mig": `exports.run = () => ${never};` });
    const error = await execute([ponr, { op: "apply", module: "a/mig", function: "run", args: [] }], { port: n.port, target: { dir: "", apps: [] }, codeChangeTimeout: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/a\/mig\.run did not settle within 50 ms/);
  });

  it("an application start that never settles fails the step after the start timeout; the application is stopped", async () => {
    const { node: n } = node({ "a/app": `exports.behaviour = "application"; exports.start = () => ${never};` });
    n.controller.startTimeout = 50;
    const script: Instruction[] = [ponr, { op: "apply", module: "application", function: "start", args: ["a", "permanent"] }];
    const error = await execute(script, { port: n.port, target: { dir: "", apps: [app({})] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/application a did not start \(a\/app\.start did not settle\) within 50 ms\. Fix: .*--boot-timeout/);
    expect(n.controller.list()).toEqual([]);
  });

  it("a start module's stop that never settles fails the step; rollback starts the application again", async () => {
    const { node: n } = node({ "a/app": `exports.behaviour = "application"; exports.start = () => undefined; exports.stop = () => ${never};` });
    n.controller.load(app({}));
    await n.controller.start("a");
    const error = await execute([ponr, { op: "apply", module: "application", function: "stop", args: ["a"] }], { port: n.port, target: { dir: "", apps: [app({})] }, codeChangeTimeout: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstallError);
    expect((error as Error).message).toMatch(/a\/app\.stop did not settle within 50 ms/);
    expect(n.controller.list()[0]!.status).toBe("running");
  });
});
