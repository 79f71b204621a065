/**
 * npm package changes in generated plans, case by case: which modules are reloaded and how, what forces
 * a restart, what the plan says. Every plan here passes the node's meaning check.
 */
import { describe, expect, it } from "vitest";
import { model, type AppSpec, type PackageSpec } from "../../test/helpers/model.ts";
import { checkPlanMeaning } from "./check-plan-meaning.ts";
import { generatePlan, type Plan } from "./generate-plan.ts";
import type { Instruction } from "./instruction.ts";
import { formatPlanIssue, formatPlanWarning } from "./issues.ts";
import { renderPlanMarkdown } from "./render/render-markdown.ts";
import { renderPlanText } from "./render/render-text.ts";

const B = "brutal_purge" as const;
const load = (module: string): Instruction => ({ op: "load", module, prePurge: B, postPurge: B });
const ponr: Instruction = { op: "point_of_no_return" };
const code = (application: string, version: string, modules: string[]): Instruction => ({ op: "load_object_code", application, version, modules });

type Release = { apps: AppSpec[]; packages: Record<string, PackageSpec>; restart?: string[] };

function plan(v1: Release, v2: Release): Plan {
  const [from, to] = [model({ version: "1.0.0", ...v1 }), model({ version: "2.0.0", ...v2 })];
  const result = generatePlan(from, to);
  if (!result.ok) throw new Error(result.issues.map(formatPlanIssue).join("\n"));
  expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
  return result.value;
}

/** labels 1.0.0: `label` requires tiny-pad, `history` (a server) too, `http` requires neither. */
const labels: AppSpec = {
  name: "labels",
  version: "1.0.0",
  modules: [
    { name: "label", packages: ["tiny-pad"] },
    { name: "history", behaviour: "server", packages: ["tiny-pad"] },
    { name: "http", behaviour: "server", imports: ["labels/label"] },
  ],
};
const pad = (version: string, extra: Partial<PackageSpec> = {}): Record<string, PackageSpec> => ({ "tiny-pad": { version, ...extra } });

describe("npm package changes: hot", () => {
  it("a direct bump reloads each module that requires it, from the new release, though its application is unchanged", () => {
    const p = plan({ apps: [labels], packages: pad("1.0.0") }, { apps: [labels], packages: pad("1.1.0") });
    expect(p.file.up).toEqual([code("labels", "1.0.0", ["label", "history"]), ponr, load("labels/label"), { op: "suspend", modules: ["labels/history"] }, load("labels/history"), { op: "resume", modules: ["labels/history"] }]);
    expect(p.file.down).toEqual([code("labels", "1.0.0", ["label", "history"]), ponr, load("labels/label"), { op: "suspend", modules: ["labels/history"] }, load("labels/history"), { op: "resume", modules: ["labels/history"] }]);
    expect(p.diff.npm.changes).toEqual([{ package: "tiny-pad", name: "tiny-pad", from: "1.0.0", to: "1.1.0", sameVersion: false, direct: true, via: [], importers: ["labels/history", "labels/label"] }]);
    expect(p.reasons.up).toContain("reload `labels/label` from the new release, though its code is the same: it requires `tiny-pad`, which changes 1.0.0 → 1.1.0");
    expect(p.reasons.down).toContain("reload `labels/label` from the older release, though its code is the same: it requires `tiny-pad`, which changes 1.1.0 → 1.0.0");
    expect(p.warnings).toEqual([{ code: "package-objects", module: "labels/history", packages: [{ package: "tiny-pad", from: "1.0.0", to: "1.1.0" }] }]);
    expect(formatPlanWarning(p.warnings[0]!)).toContain("keep running that version's code until they are replaced");
  });

  it("a transitive bump reloads the modules that reach it through the package that depends on it", () => {
    const packages = (v: string) => ({ "tiny-format": { version: "1.0.0", dependencies: ["tiny-pad"] }, "tiny-pad": { version: v } });
    const app: AppSpec = { name: "labels", version: "1.0.0", modules: [{ name: "format", packages: ["tiny-format"] }, { name: "other" }] };
    const p = plan({ apps: [app], packages: packages("1.0.0"), direct: ["tiny-format"] } as Release, { apps: [app], packages: packages("1.0.1"), direct: ["tiny-format"] } as Release);
    expect(p.file.up).toEqual([code("labels", "1.0.0", ["format"]), ponr, load("labels/format")]);
    expect(p.diff.npm.changes).toMatchObject([{ package: "tiny-pad", direct: false, via: ["tiny-format"], importers: ["labels/format"] }]);
    expect(p.reasons.up[0]).toBe("reload `labels/format` from the new release, though its code is the same: it reaches, through `tiny-format`, `tiny-pad`, which changes 1.0.0 → 1.0.1");
  });

  it("the same version with other files is a change too", () => {
    const p = plan({ apps: [labels], packages: pad("1.0.0") }, { apps: [labels], packages: pad("1.0.0", { content: "patched" }) });
    expect(p.diff.npm.changes).toMatchObject([{ package: "tiny-pad", from: "1.0.0", to: "1.0.0", sameVersion: true }]);
    expect(p.file.up).toContainEqual(load("labels/label"));
  });

  it("a package no module reaches changes nothing in the running code", () => {
    const p = plan({ apps: [labels], packages: { ...pad("1.0.0"), unused: { version: "1.0.0" } } }, { apps: [labels], packages: { ...pad("1.0.0"), unused: { version: "2.0.0" } } });
    expect(p.file.up).toEqual([ponr]);
    expect(p.diff.npm.changes).toMatchObject([{ package: "unused", importers: [] }]);
  });

  it("a module that imports a reloaded module goes after it, with the import as the reason", () => {
    const v1: AppSpec = { name: "labels", version: "1.0.0", modules: [{ name: "label", packages: ["tiny-pad"] }, { name: "page", imports: ["labels/label"] }] };
    const v2: AppSpec = { name: "labels", version: "1.1.0", modules: [{ name: "label", packages: ["tiny-pad"] }, { name: "page", code: "v2", imports: ["labels/label"] }] };
    const p = plan({ apps: [v1], packages: pad("1.0.0") }, { apps: [v2], packages: pad("1.1.0") });
    expect(p.file.up).toEqual([code("labels", "1.1.0", ["label", "page"]), ponr, load("labels/label"), load("labels/page")]);
    expect(p.reasons.up).toContain("load `labels/label` before loading `labels/page`: `labels/page` imports `labels/label`");
  });

  it("a server whose state vsn changes gets the changed packages it reaches in its codeChange extra", () => {
    const v1: AppSpec = { name: "s", version: "1.0.0", modules: [{ name: "store", behaviour: "server", vsn: 1, packages: ["pg"] }] };
    const v2: AppSpec = { name: "s", version: "2.0.0", modules: [{ name: "store", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange"], packages: ["pg"] }] };
    const p = plan({ apps: [v1], packages: { pg: { version: "8.1.0" } } }, { apps: [v2], packages: { pg: { version: "8.2.0" } } });
    expect(p.file.up).toContainEqual({ op: "code_change", mode: "up", modules: [{ module: "s/store", extra: { packages: { pg: { from: "8.1.0", to: "8.2.0" } } } }] });
  });

  it("a package added and one removed: the modules that change are reloaded as usual, nothing restarts", () => {
    const v1: AppSpec = { name: "labels", version: "1.0.0", modules: [{ name: "label", packages: ["tiny-pad"] }] };
    const v2: AppSpec = { name: "labels", version: "1.1.0", modules: [{ name: "label", code: "v2", packages: ["tiny-upper"] }] };
    const p = plan({ apps: [v1], packages: pad("1.0.0") }, { apps: [v2], packages: { "tiny-upper": { version: "1.0.0" } } });
    expect(p.file.up).toEqual([code("labels", "1.1.0", ["label"]), ponr, load("labels/label")]);
    expect(p.diff.npm.changes).toMatchObject([
      { package: "tiny-pad", from: "1.0.0", importers: ["labels/label"] },
      { package: "tiny-upper", to: "1.0.0", importers: ["labels/label"] },
    ]);
    expect(p.diff.npm.changes.map((c) => "from" in c && "to" in c)).toEqual([false, false]);
  });

  it("a native package added is loaded like any other: only a change of one in place restarts", () => {
    const p = plan({ apps: [labels], packages: pad("1.0.0") }, { apps: [labels], packages: { ...pad("1.0.0"), addon: { version: "1.0.0", native: "it builds a native addon (binding.gyp)" } } });
    expect(p.warnings.filter((w) => w.code === "restart-new-emulator")).toEqual([]);
  });
});

describe("npm package changes: a restart", () => {
  it("a changed package with a native addon restarts the node, and the plan says which and why", () => {
    const native = "it builds a native addon (binding.gyp)";
    const p = plan({ apps: [labels], packages: pad("1.0.0", { native }) }, { apps: [labels], packages: pad("1.1.0", { native }) });
    expect(p.file.up).toEqual([{ op: "restart_new_emulator" }, ponr]);
    expect(p.file.down).toEqual([{ op: "restart_new_emulator" }, ponr]);
    expect(p.warnings).toEqual([{ code: "restart-new-emulator", reasons: ["npm package `tiny-pad` changes 1.0.0 → 1.1.0: it builds a native addon (binding.gyp)"] }]);
    expect(p.diff.npm.changes[0]!.restart).toBe(native);
  });

  it("a package listed under npm.restart restarts the node, listed in either release", () => {
    for (const [a, b, whose] of [[["tiny-pad"], [], "release 1.0.0 lists"], [[], ["tiny-pad"], "release 2.0.0 lists"], [["tiny-pad"], ["tiny-pad"], "both releases lists"]] as const) {
      const p = plan({ apps: [labels], packages: pad("1.0.0"), restart: [...a] }, { apps: [labels], packages: pad("1.1.0"), restart: [...b] });
      expect(p.warnings).toEqual([{ code: "restart-new-emulator", reasons: [`npm package \`tiny-pad\` changes 1.0.0 → 1.1.0: relup.config.json of ${whose} it under npm.restart`] }]);
    }
  });

  it("releases built without package metadata restart on any package change, and say that later upgrades are hot", () => {
    const result = generatePlan(model({ version: "1.0.0", apps: [labels], npm: { "tiny-pad": "1.0.0" } }), model({ version: "2.0.0", apps: [labels], packages: pad("1.1.0") }));
    expect(result.ok && result.value.warnings).toEqual([{ code: "restart-new-emulator", reasons: ["npm packages change, and rel 1.0.0 was built without the package metadata hot upgrades need (by an earlier relup): this upgrade restarts the node; between releases built with this relup, package changes are hot"] }]);
  });
});

describe("npm packages and the modules an upgrade loads", () => {
  const changedLabel = (packages: string[]): [AppSpec, AppSpec] => [
    { name: "labels", version: "1.0.0", modules: [{ name: "label", packages }, { name: "other" }] },
    { name: "labels", version: "1.1.0", modules: [{ name: "label", code: "v2", packages }, { name: "other" }] },
  ];

  it("a package listed under npm.restart, unchanged, restarts the node when a module that reaches it is loaded: its second instance is not wanted", () => {
    const [v1, v2] = changedLabel(["registry"]);
    const p = plan({ apps: [v1], packages: { registry: { version: "1.0.0" } }, restart: ["registry"] }, { apps: [v2], packages: { registry: { version: "1.0.0" } }, restart: ["registry"] });
    expect(p.file.up).toEqual([{ op: "restart_new_emulator" }, ponr]);
    expect(p.warnings).toEqual([{ code: "restart-new-emulator", reasons: ["`labels/label` is loaded from release 2.0.0 and reaches npm package `registry`, whose second instance beside the running one is not wanted: relup.config.json of both releases lists it under npm.restart"] }]);
  });

  it("an unchanged package with a native addon reached by a loaded module: hot, with a warning that a second copy of the addon is loaded", () => {
    const [v1, v2] = changedLabel(["addon"]);
    const native = "it builds a native addon (binding.gyp)";
    const p = plan({ apps: [v1], packages: { addon: { version: "1.0.0", native } } }, { apps: [v2], packages: { addon: { version: "1.0.0", native } } });
    expect(p.file.up).toContainEqual(load("labels/label"));
    expect(p.warnings).toEqual([{ code: "native-second-copy", module: "labels/label", package: "addon", release: "2.0.0" }]);
    expect(formatPlanWarning(p.warnings[0]!)).toContain("list it under npm.restart");
  });

  it("a module another application's hand-written appup already reloads gets no second instruction; one it reloads in one direction only gets the other", () => {
    const core = (version: string): AppSpec => ({ name: "core", version, modules: [{ name: "c", code: version }] });
    const appup = (down: boolean) => ({
      format: 1 as const,
      application: "core",
      version: "1.1.0",
      up: [{ from: "1.0.0", instructions: [{ op: "load_module" as const, module: "c" }, { op: "load_module" as const, module: "labels/label" }] }],
      down: [{ to: "1.0.0", instructions: [{ op: "load_module" as const, module: "c" }, ...(down ? [{ op: "load_module" as const, module: "labels/label" }] : [])] }],
    });
    for (const down of [true, false]) {
      const from = model({ version: "1.0.0", apps: [core("1.0.0"), labels], packages: pad("1.0.0") });
      const to = model({ version: "2.0.0", apps: [core("1.1.0"), labels], packages: pad("1.1.0"), appups: [appup(down)] });
      const result = generatePlan(from, to);
      if (!result.ok) throw new Error(result.issues.map(formatPlanIssue).join("\n"));
      expect(checkPlanMeaning(result.value.file, from, to).map(formatPlanIssue)).toEqual([]);
      expect(result.value.file.up.filter((i) => i.op === "load" && i.module === "labels/label")).toHaveLength(1);
      expect(result.value.file.down.filter((i) => i.op === "load" && i.module === "labels/label")).toHaveLength(1);
    }
  });
});

describe("how a plan shows package changes", () => {
  it("steps name the release a same-code module is read from; the application's row says which modules reload; an older version is called so", () => {
    const p = plan({ apps: [labels], packages: pad("1.1.0") }, { apps: [labels], packages: pad("1.0.5") });
    const text = renderPlanText(p);
    expect(text).toContain("read and compile labels 1.0.0 from release 2.0.0: `label`, `history`");
    expect(text).toContain("load the 1.0.0 code of `labels/label`, from release 2.0.0: the same code, whose npm packages change");
    expect(text).toContain("load the 1.0.0 code of `labels/label`, from release 1.0.0: the same code, whose npm packages change");
    expect(text).toContain("~ labels 1.0.0: unchanged code; `labels/history`, `labels/label` reloaded: npm packages they reach change");
    expect(text).toContain("~ `tiny-pad` 1.1.0 → 1.0.5 (an older version) (direct): hot: reached by `labels/history`, `labels/label`");
    expect(renderPlanMarkdown(p)).toContain("| labels | 1.0.0 | unchanged code; `labels/history`, `labels/label` reloaded: npm packages they reach change |");
    expect(p.file.notes).toContain("npm: `tiny-pad` 1.1.0 → 1.0.5 (an older version) (direct): hot: reached by `labels/history`, `labels/label`");
  });

  it("a change between releases without package metadata says why it restarts", () => {
    const result = generatePlan(model({ version: "1.0.0", apps: [labels], npm: { "tiny-pad": "1.0.0" } }), model({ version: "2.0.0", apps: [labels], packages: pad("1.1.0") }));
    if (!result.ok) throw new Error("expected a plan");
    expect(renderPlanText(result.value)).toContain("`tiny-pad` 1.0.0 → 1.1.0 (direct): reached by `labels/history`, `labels/label`; restart: a release was built without the package metadata hot upgrades need");
  });
});

describe("the meaning check and package changes", () => {
  it("refuses a hot section where a package change needs a restart (a plan edited to drop restart_new_emulator)", () => {
    const native = "it builds a native addon (binding.gyp)";
    const [from, to] = [model({ version: "1.0.0", apps: [labels], packages: pad("1.0.0", { native }) }), model({ version: "2.0.0", apps: [labels], packages: pad("1.1.0", { native }) })];
    const hot = [code("labels", "1.0.0", ["label", "history"]), ponr, load("labels/label"), { op: "suspend", modules: ["labels/history"] }, load("labels/history"), { op: "resume", modules: ["labels/history"] }] as Instruction[];
    const plan = { up: hot, down: [{ op: "restart_new_emulator" }, ponr] as Instruction[] };
    expect(checkPlanMeaning(plan, from, to).map(formatPlanIssue)).toEqual([expect.stringContaining("the section upgrades hot, but npm package `tiny-pad` changes 1.0.0 → 1.1.0: it builds a native addon (binding.gyp): only a restart of the node (restart_new_emulator) can do that")]);
  });

  it("refuses a section that leaves a module on the other release's package", () => {
    const [from, to] = [model({ version: "1.0.0", apps: [labels], packages: pad("1.0.0") }), model({ version: "2.0.0", apps: [labels], packages: pad("1.1.0") })];
    const result = generatePlan(from, to);
    if (!result.ok) throw new Error("expected a plan");
    const up = result.value.file.up.filter((i) => !(i.op === "load" && i.module === "labels/label"));
    const issues = checkPlanMeaning({ ...result.value.file, up }, from, to);
    expect(issues.map(formatPlanIssue)).toEqual([expect.stringContaining("`labels/label` reaches the npm package `tiny-pad`, which differs in the release the section goes to")]);
  });
});
