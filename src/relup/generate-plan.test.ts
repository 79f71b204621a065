/**
 * Plan generation, case by case, in the manner of OTP's systools_rc_SUITE: each test is named after the
 * property it covers and pins the literal instruction lists, up and down.
 */
import { describe, expect, it } from "vitest";
import { model, type AppSpec } from "../../test/helpers/model.ts";
import { checkPlanMeaning } from "./check-plan-meaning.ts";
import { generatePlan, type Plan } from "./generate-plan.ts";
import type { Instruction } from "./instruction.ts";
import { formatPlanIssue, type PlanIssue } from "./issues.ts";

const B = "brutal_purge" as const;
const load = (module: string): Instruction => ({ op: "load", module, prePurge: B, postPurge: B });
const remove = (module: string): Instruction => ({ op: "remove", module, prePurge: B, postPurge: B });
const ponr: Instruction = { op: "point_of_no_return" };
const code = (application: string, version: string, modules: string[]): Instruction => ({ op: "load_object_code", application, version, modules });

function plan(v1: AppSpec[], v2: AppSpec[], extra: { npm?: [Record<string, string>, Record<string, string>] } = {}): Plan {
  const [from, to] = [model({ version: "1.0.0", apps: v1, npm: extra.npm?.[0] }), model({ version: "2.0.0", apps: v2, npm: extra.npm?.[1] })];
  const result = generatePlan(from, to);
  if (!result.ok) throw new Error(result.issues.map(formatPlanIssue).join("\n"));
  // Every generated plan means what its releases need: the node's meaning check never refuses it.
  expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
  return result.value;
}

function issues(v1: AppSpec[], v2: AppSpec[], versions: [string, string] = ["1.0.0", "2.0.0"]): PlanIssue[] {
  const result = generatePlan(model({ version: versions[0], apps: v1 }), model({ version: versions[1], apps: v2 }));
  if (result.ok) throw new Error("expected generation to fail");
  return result.issues;
}

describe("generatePlan: module changes", () => {
  it("simple load: a changed plain module is loaded, with its object code read before the point of no return", () => {
    const p = plan([{ name: "a", version: "1.0.0", modules: [{ name: "m" }] }], [{ name: "a", version: "1.1.0", modules: [{ name: "m", code: "v2" }] }]);
    expect(p.file.up).toEqual([code("a", "1.1.0", ["m"]), ponr, load("a/m")]);
    expect(p.file.down).toEqual([code("a", "1.0.0", ["m"]), ponr, load("a/m")]);
  });

  it("dependency order: a dependency loads before its dependent on the way up and after it on the way down", () => {
    const v1 = [{ name: "shop", version: "1.0.0", modules: [{ name: "price", imports: ["shop/tax"] }, { name: "tax" }] }];
    const v2 = [{ name: "shop", version: "1.1.0", modules: [{ name: "price", code: "v2", imports: ["shop/tax"] }, { name: "tax", code: "v2" }] }];
    const p = plan(v1, v2);
    expect(p.file.up).toEqual([code("shop", "1.1.0", ["tax", "price"]), ponr, load("shop/tax"), load("shop/price")]);
    expect(p.file.down).toEqual([code("shop", "1.0.0", ["price", "tax"]), ponr, load("shop/price"), load("shop/tax")]);
    expect(p.reasons.up).toEqual(["load `shop/tax` before loading `shop/price`: `shop/price` imports `shop/tax`"]);
  });

  it("stateful update: a server whose vsn changed is migrated by codeChange after the load up, before the load down", () => {
    const v1 = [{ name: "c", version: "1.0.0", modules: [{ name: "counter", behaviour: "server" as const, vsn: 1 }] }];
    const v2 = [{ name: "c", version: "2.0.0", modules: [{ name: "counter", behaviour: "server" as const, vsn: 2, code: "v2", exports: ["codeChange"] }] }];
    const p = plan(v1, v2);
    const mods = ["c/counter"];
    expect(p.file.up).toEqual([code("c", "2.0.0", ["counter"]), ponr, { op: "suspend", modules: mods }, load("c/counter"), { op: "code_change", mode: "up", modules: [{ module: "c/counter", extra: {} }] }, { op: "resume", modules: mods }]);
    expect(p.file.down).toEqual([code("c", "1.0.0", ["counter"]), ponr, { op: "suspend", modules: mods }, { op: "code_change", mode: "down", modules: [{ module: "c/counter", extra: {} }] }, load("c/counter"), { op: "resume", modules: mods }]);
  });

  it("soft update: a server whose declared vsn did not change is suspended and reloaded without migration, even with codeChange", () => {
    const v1 = [{ name: "c", version: "1.0.0", modules: [{ name: "s", behaviour: "server" as const, vsn: 2, exports: ["codeChange"] }] }];
    const v2 = [{ name: "c", version: "1.0.1", modules: [{ name: "s", behaviour: "server" as const, vsn: 2, code: "v2", exports: ["codeChange"] }] }];
    expect(plan(v1, v2).file.up).toEqual([code("c", "1.0.1", ["s"]), ponr, { op: "suspend", modules: ["c/s"] }, load("c/s"), { op: "resume", modules: ["c/s"] }]);
  });

  it("a server without a declared vsn that exports codeChange gets an advanced update", () => {
    const v1 = [{ name: "c", version: "1.0.0", modules: [{ name: "s", behaviour: "server" as const, exports: ["codeChange"] }] }];
    const v2 = [{ name: "c", version: "1.0.1", modules: [{ name: "s", behaviour: "server" as const, code: "v2", exports: ["codeChange"] }] }];
    expect(plan(v1, v2).file.up).toContainEqual({ op: "code_change", mode: "up", modules: [{ module: "c/s", extra: {} }] });
  });

  it("module added: the new module loads before the module that starts importing it; down, it is removed after", () => {
    const v1 = [{ name: "g", version: "1.0.0", modules: [{ name: "greeting" }] }];
    const v2 = [{ name: "g", version: "1.1.0", modules: [{ name: "format" }, { name: "greeting", code: "v2", imports: ["g/format"] }] }];
    const p = plan(v1, v2);
    expect(p.file.up).toEqual([code("g", "1.1.0", ["format", "greeting"]), ponr, load("g/format"), load("g/greeting")]);
    expect(p.file.down).toEqual([code("g", "1.0.0", ["greeting"]), ponr, load("g/greeting"), remove("g/format"), { op: "purge", modules: ["g/format"] }]);
  });

  it("module removed: it is removed after the module that stopped importing it is reloaded, then purged", () => {
    const v1 = [{ name: "g", version: "1.0.0", modules: [{ name: "format" }, { name: "greeting", imports: ["g/format"] }] }];
    const v2 = [{ name: "g", version: "1.1.0", modules: [{ name: "greeting", code: "v2" }] }];
    const p = plan(v1, v2);
    expect(p.file.up).toEqual([code("g", "1.1.0", ["greeting"]), ponr, load("g/greeting"), remove("g/format"), { op: "purge", modules: ["g/format"] }]);
    expect(p.file.down).toEqual([code("g", "1.0.0", ["format", "greeting"]), ponr, load("g/format"), load("g/greeting")]);
  });

  it("one suspend window: two servers that share a changed module are suspended together and resumed in reverse", () => {
    const v1 = [{ name: "a", version: "1.0.0", modules: [{ name: "util" }, { name: "s1", behaviour: "server" as const, imports: ["a/util"] }, { name: "s2", behaviour: "server" as const, imports: ["a/util"] }] }];
    const v2 = [{ name: "a", version: "1.1.0", modules: [{ name: "util", code: "v2" }, { name: "s1", behaviour: "server" as const, code: "v2", imports: ["a/util"] }, { name: "s2", behaviour: "server" as const, code: "v2", imports: ["a/util"] }] }];
    expect(plan(v1, v2).file.up).toEqual([
      code("a", "1.1.0", ["util", "s2", "s1"]),
      ponr,
      { op: "suspend", modules: ["a/s1", "a/s2"] },
      load("a/util"),
      load("a/s2"),
      load("a/s1"),
      { op: "resume", modules: ["a/s2", "a/s1"] },
    ]);
  });

  it("supervisor child added and removed: the new child's module loads first; the removed one's children are stopped first, its module removed in the block and purged last", () => {
    const sup = { name: "sup", behaviour: "supervisor" as const };
    const v1 = [{ name: "w", version: "1.0.0", modules: [sup, { name: "a", behaviour: "server" as const }, { name: "b", behaviour: "server" as const }] }];
    const v2 = [{ name: "w", version: "1.1.0", modules: [{ ...sup, code: "v2" }, { name: "a", behaviour: "server" as const }, { name: "c", behaviour: "server" as const }] }];
    const p = plan(v1, v2);
    const s = ["w/sup"];
    // The children running w/b are stopped through their supervisor before anything is suspended (a
    // suspended supervisor could not answer) and before w/b is removed (their terminate runs on loaded code).
    expect(p.file.up).toEqual([code("w", "1.1.0", ["c", "sup"]), ponr, { op: "stop", modules: ["w/b"] }, { op: "suspend", modules: s }, load("w/c"), load("w/sup"), remove("w/b"), { op: "code_change", mode: "up", modules: [{ module: "w/sup", extra: null }] }, { op: "resume", modules: s }, { op: "purge", modules: ["w/b"] }]);
    // A supervisor is static: on the way down it re-reads its specs from the older code, so it migrates after the load.
    expect(p.file.down).toEqual([code("w", "1.0.0", ["b", "sup"]), ponr, { op: "stop", modules: ["w/c"] }, { op: "suspend", modules: s }, load("w/b"), load("w/sup"), remove("w/c"), { op: "code_change", mode: "down", modules: [{ module: "w/sup", extra: null }] }, { op: "resume", modules: s }, { op: "purge", modules: ["w/c"] }]);
    expect(p.reasons.up).toContain("stop the supervised processes of `w/b` before removing it: their supervisor terminates them while the code is loaded (terminate runs) and does not restart them");
  });

  it("purges last: removed modules are purged in one final step, after every step that can fail", () => {
    const v1 = [{ name: "g", version: "1.0.0", modules: [{ name: "format" }, { name: "greeting", imports: ["g/format"] }, { name: "s", behaviour: "server" as const, vsn: 1 }], env: { a: 1 } }];
    const v2 = [{ name: "g", version: "1.1.0", modules: [{ name: "greeting", code: "v2" }, { name: "s", behaviour: "server" as const, vsn: 2, code: "v2", exports: ["codeChange"] }], env: { a: 2 } }];
    expect(plan(v1, v2).file.up).toEqual([
      code("g", "1.1.0", ["greeting", "s"]),
      ponr,
      { op: "apply", module: "application", function: "set_env_defaults", args: ["g", { a: 2 }, {}, []] },
      load("g/greeting"),
      remove("g/format"),
      { op: "suspend", modules: ["g/s"] },
      load("g/s"),
      { op: "code_change", mode: "up", modules: [{ module: "g/s", extra: {} }] },
      { op: "resume", modules: ["g/s"] },
      { op: "apply", module: "application", function: "config_change", args: ["g"] },
      { op: "purge", modules: ["g/format"] },
    ]);
  });

  it("env defaults changed: set_env_defaults with the new values up and the old values down, then config_change tells the application", () => {
    const p = plan([{ name: "g", version: "1.0.0", modules: [{ name: "m" }], env: { limit: 10, old: true } }], [{ name: "g", version: "1.1.0", modules: [{ name: "m" }], env: { limit: 20, fresh: 1 } }]);
    const tell: Instruction = { op: "apply", module: "application", function: "config_change", args: ["g"] };
    expect(p.file.up).toEqual([ponr, { op: "apply", module: "application", function: "set_env_defaults", args: ["g", { limit: 20 }, { fresh: 1 }, ["old"]] }, tell]);
    expect(p.file.down).toEqual([ponr, { op: "apply", module: "application", function: "set_env_defaults", args: ["g", { limit: 10 }, { old: true }, ["fresh"]] }, tell]);
  });

  it("env and code changed: the env is set before any suspend or load, both ways; the application is told after the code change", () => {
    const v1 = [{ name: "c", version: "1.0.0", modules: [{ name: "counter", behaviour: "server" as const, vsn: 1 }], env: { limit: 10 } }];
    const v2 = [{ name: "c", version: "2.0.0", modules: [{ name: "counter", behaviour: "server" as const, vsn: 2, code: "v2", exports: ["codeChange"] }], env: { limit: 20 } }];
    const p = plan(v1, v2);
    const mods = ["c/counter"];
    const setEnv = (limit: number): Instruction => ({ op: "apply", module: "application", function: "set_env_defaults", args: ["c", { limit }, {}, []] });
    const tell: Instruction = { op: "apply", module: "application", function: "config_change", args: ["c"] };
    const migrate = (mode: "up" | "down"): Instruction => ({ op: "code_change", mode, modules: [{ module: "c/counter", extra: {} }] });
    expect(p.file.up).toEqual([code("c", "2.0.0", ["counter"]), ponr, setEnv(20), { op: "suspend", modules: mods }, load("c/counter"), migrate("up"), { op: "resume", modules: mods }, tell]);
    expect(p.file.down).toEqual([code("c", "1.0.0", ["counter"]), ponr, setEnv(10), { op: "suspend", modules: mods }, migrate("down"), load("c/counter"), { op: "resume", modules: mods }, tell]);
  });
});

describe("generatePlan: applications and restarts", () => {
  const core = { name: "core", version: "1.0.0", modules: [{ name: "store", behaviour: "server" as const }] };
  const metrics = { name: "metrics", version: "1.0.0", applications: ["core"], modules: [{ name: "sup", behaviour: "supervisor" as const, imports: ["metrics/collector"] }, { name: "collector" }] };

  it("add application: its modules load in dependency order, then it starts; down: stopped, removed, unloaded, purged last", () => {
    const p = plan([core], [core, metrics]);
    expect(p.file.up).toEqual([code("metrics", "1.0.0", ["collector", "sup"]), ponr, load("metrics/collector"), load("metrics/sup"), { op: "apply", module: "application", function: "start", args: ["metrics", "permanent"] }]);
    expect(p.file.down).toEqual([
      ponr,
      { op: "apply", module: "application", function: "stop", args: ["metrics"] },
      remove("metrics/sup"),
      remove("metrics/collector"),
      { op: "apply", module: "application", function: "unload", args: ["metrics"] },
      { op: "purge", modules: ["metrics/sup", "metrics/collector"] },
    ]);
  });

  it("remove application: it goes last, after the applications that used it are upgraded", () => {
    const web1 = { name: "web", version: "1.0.0", applications: ["metrics"], modules: [{ name: "page" }] };
    const web2 = { name: "web", version: "1.1.0", modules: [{ name: "page", code: "v2" }] };
    const p = plan([core, metrics, web1], [core, web2]);
    expect(p.file.up.map((i) => (i.op === "apply" ? `${i.function} ${i.args[0]}` : i.op))).toEqual(["load_object_code", "point_of_no_return", "load", "stop metrics", "remove", "remove", "unload metrics", "purge"]);
    expect(p.reasons.up).toContain("remove `metrics` last: `web` used it and is upgraded first");
  });

  it("restart_new_emulator: a package change between releases without package metadata puts it first and alone, with a warning", () => {
    const p = plan([core], [core], { npm: [{ pad: "1.0.0" }, { pad: "1.1.0" }] });
    expect(p.file.up).toEqual([{ op: "restart_new_emulator" }, ponr]);
    expect(p.file.down).toEqual([{ op: "restart_new_emulator" }, ponr]);
    expect(p.warnings).toEqual([{ code: "restart-new-emulator", reasons: ["npm packages change, and rel 1.0.0 and rel 2.0.0 were built without the package metadata hot upgrades need (by an earlier relup): this upgrade restarts the node; between releases built with this relup, package changes are hot"] }]);
  });

  it("warns about module-level state in a reloaded module", () => {
    const p = plan([{ name: "a", version: "1.0.0", modules: [{ name: "m" }] }], [{ name: "a", version: "1.1.0", modules: [{ name: "m", code: "v2", mutableState: ["hits"] }] }]);
    expect(p.warnings).toEqual([{ code: "module-state", module: "a/m", bindings: ["hits"] }]);
  });

  it("nothing changed but the release version: an empty plan", () => {
    expect(plan([core], [core]).file.up).toEqual([ponr]);
  });
});

describe("generatePlan: checks that stop generation", () => {
  const app = (version: string, modules: AppSpec["modules"]): AppSpec => ({ name: "a", version, modules });

  it("the new release version is not greater than the old", () => {
    expect(issues([app("1.0.0", [{ name: "m" }])], [app("1.0.0", [{ name: "m" }])], ["1.2.0", "1.1.0"])).toEqual([{ code: "version-not-greater", release: "rel", from: "1.2.0", to: "1.1.0" }]);
  });

  it("a module changed while its application kept its version", () => {
    expect(issues([app("1.0.0", [{ name: "m" }])], [app("1.0.0", [{ name: "m", code: "v2" }])])).toEqual([{ code: "module-changed-same-version", app: "a", version: "1.0.0", modules: ["m"] }]);
  });

  it("a server whose state version changed without codeChange", () => {
    const found = issues([app("1.0.0", [{ name: "s", behaviour: "server", vsn: 1 }])], [app("1.1.0", [{ name: "s", behaviour: "server", vsn: 2, code: "v2" }])]);
    expect(found).toEqual([{ code: "state-change-without-code-change", module: "a/s", from: "1", to: "2" }]);
    expect(formatPlanIssue(found[0]!)).toContain("export `codeChange(oldVsn, state, extra)` from `a/s`");
  });

  it("a dependency cycle among changed modules, printed", () => {
    const found = issues(
      [app("1.0.0", [{ name: "x", imports: ["a/y"] }, { name: "y", imports: ["a/x"] }])],
      [app("1.1.0", [{ name: "x", code: "v2", imports: ["a/y"] }, { name: "y", code: "v2", imports: ["a/x"] }])],
    );
    expect(found).toEqual([{ code: "dependency-cycle", cycle: ["a/x", "a/y", "a/x"] }]);
    expect(formatPlanIssue(found[0]!)).toContain("`a/x` → `a/y` → `a/x`");
  });

  it("two releases of different names", () => {
    const result = generatePlan(model({ name: "one", version: "1.0.0", apps: [] }), model({ name: "two", version: "2.0.0", apps: [] }));
    expect(result).toEqual({ ok: false, issues: [{ code: "release-name-mismatch", from: "one", to: "two" }] });
  });
});
