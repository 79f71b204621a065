/**
 * Properties of generated plans over random releases: random module graphs (imports only point to
 * modules declared earlier, so the graph has no cycle), random behaviours, and a random second version
 * in which modules change, gain a state version, appear or disappear, and npm packages they reach
 * (`p1`, which depends on `p0`) change version.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPlanMeaning } from "../src/relup/check-plan-meaning.ts";
import { checkScript } from "../src/relup/check-script.ts";
import { generatePlan } from "../src/relup/generate-plan.ts";
import type { Instruction } from "../src/relup/instruction.ts";
import { formatPlanIssue } from "../src/relup/issues.ts";
import { model, type AppSpec, type ModuleSpec } from "./helpers/model.ts";

type Change = "same" | "code" | "vsn" | "remove";

const moduleArb = (index: number) =>
  fc.record({
    behaviour: fc.constantFrom(null, null, "server" as const, "supervisor" as const),
    declaresVsn: fc.boolean(),
    imports: fc.uniqueArray(fc.nat({ max: Math.max(0, index - 1) }), { maxLength: index === 0 ? 0 : 3 }),
    change: fc.constantFrom<Change>("same", "code", "code", "vsn", "remove"),
    state: fc.boolean(),
    packages: fc.subarray(["p0", "p1"]),
  });

const appArb = fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => moduleArb(i))));
const releaseArb = fc.record({ apps: fc.array(appArb, { minLength: 1, maxLength: 3 }), added: fc.integer({ min: 0, max: 2 }), bump: fc.record({ p0: fc.boolean(), p1: fc.boolean() }) });

interface ModuleDesc {
  behaviour: "server" | "supervisor" | null;
  declaresVsn: boolean;
  imports: number[];
  change: Change;
  state: boolean;
  packages: string[];
}

/** Two consistent versions of a release from the random description. */
function versions(desc: { apps: ModuleDesc[][]; added: number; bump?: { p0: boolean; p1: boolean } }) {
  const v1: AppSpec[] = [];
  const v2: AppSpec[] = [];
  desc.apps.forEach((mods, a) => {
    const app = `app${a}`;
    const name = (i: number) => `m${i}`;
    const removed = new Set(mods.flatMap((m, i) => (m.change === "remove" ? [i] : [])));
    const before: ModuleSpec[] = mods.map((m, i) => ({
      name: name(i),
      behaviour: m.behaviour,
      ...(m.declaresVsn ? { vsn: 1 } : {}),
      imports: m.imports.map((j) => `${app}/${name(j)}`),
      exports: m.behaviour === "server" ? ["init"] : [],
      packages: m.packages ?? [],
    }));
    const after: ModuleSpec[] = [];
    mods.forEach((m, i) => {
      if (removed.has(i)) return;
      const keptImports = m.imports.filter((j) => !removed.has(j));
      // A module that loses an import changed its code.
      const change = keptImports.length !== m.imports.length && m.change === "same" ? "code" : m.change;
      const vsnBump = change === "vsn" && m.behaviour === "server";
      after.push({
        ...before[i]!,
        code: change === "same" ? "v1" : "v2",
        ...(vsnBump ? { vsn: 2, exports: ["init", "codeChange"] } : {}),
        imports: keptImports.map((j) => `${app}/${name(j)}`),
        mutableState: m.state && change !== "same" ? ["cache"] : [],
      });
    });
    for (let k = 0; k < desc.added; k++) after.push({ name: `new${k}`, behaviour: k % 2 === 0 ? "server" : null, imports: after.length > 0 ? [`${app}/${after[0]!.name}`] : [] });
    const changed = removed.size > 0 || desc.added > 0 || after.some((m) => m.code === "v2");
    v1.push({ name: app, version: "1.0.0", modules: before });
    v2.push({ name: app, version: changed ? "1.1.0" : "1.0.0", modules: after });
  });
  const packages = (p0: string, p1: string) => ({ p0: { version: p0 }, p1: { version: p1, dependencies: ["p0"] } });
  return {
    v1: model({ version: "1.0.0", apps: v1, packages: packages("1.0.0", "1.0.0") }),
    v2: model({ version: "1.1.0", apps: v2, packages: packages(desc.bump?.p0 ? "1.0.1" : "1.0.0", desc.bump?.p1 ? "1.1.0" : "1.0.0") }),
  };
}

function generate(desc: Parameters<typeof versions>[0]) {
  const { v1, v2 } = versions(desc);
  const result = generatePlan(v1, v2);
  if (!result.ok) throw new Error(result.issues.map(formatPlanIssue).join("\n"));
  return { plan: result.value, v1, v2 };
}

const loadIndex = (script: Instruction[], module: string) => script.findIndex((i) => (i.op === "load" || i.op === "remove") && i.module === module);

describe("generatePlan properties", () => {
  it("never throws on valid input, and both scripts pass the plan checker", () => {
    fc.assert(
      fc.property(releaseArb, (desc) => {
        const { plan } = generate(desc);
        expect(checkScript("up", plan.file.up)).toEqual([]);
        expect(checkScript("down", plan.file.down)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("every generated plan passes the node's meaning check, both sections", () => {
    fc.assert(
      fc.property(releaseArb, (desc) => {
        const { plan, v1, v2 } = generate(desc);
        expect(checkPlanMeaning(plan.file, v1, v2).map(formatPlanIssue)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("every suspend has its resume; only load_object_code and apply come before the point of no return; every load has its object code", () => {
    fc.assert(
      fc.property(releaseArb, (desc) => {
        const { plan } = generate(desc);
        for (const script of [plan.file.up, plan.file.down]) {
          const suspended = script.flatMap((i) => (i.op === "suspend" ? i.modules : [])).sort();
          const resumed = script.flatMap((i) => (i.op === "resume" ? i.modules : [])).sort();
          expect(resumed).toEqual(suspended);
          const ponr = script.findIndex((i) => i.op === "point_of_no_return");
          expect(script.slice(0, ponr).every((i) => i.op === "load_object_code" || i.op === "apply")).toBe(true);
          const read = new Set(script.flatMap((i) => (i.op === "load_object_code" ? i.modules.map((m) => `${i.application}/${m}`) : [])));
          for (const i of script) if (i.op === "load") expect(read.has(i.module)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("dependencies load before dependents on the way up and after them on the way down", () => {
    fc.assert(
      fc.property(releaseArb, (desc) => {
        const { plan, v2 } = generate(desc);
        for (const app of v2.apps) {
          for (const m of app.modules) {
            const ref = `${app.name}/${m.name}`;
            for (const dep of m.imports) {
              const [upDep, upMod] = [loadIndex(plan.file.up, dep), loadIndex(plan.file.up, ref)];
              if (upDep !== -1 && upMod !== -1) expect(upDep).toBeLessThan(upMod);
              const [downDep, downMod] = [loadIndex(plan.file.down, dep), loadIndex(plan.file.down, ref)];
              if (downDep !== -1 && downMod !== -1) expect(downMod).toBeLessThan(downDep);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is deterministic: the same releases give the same plan, byte for byte", () => {
    fc.assert(
      fc.property(releaseArb, (desc) => {
        expect(JSON.stringify(generate(desc).plan)).toBe(JSON.stringify(generate(desc).plan));
      }),
      { numRuns: 100 },
    );
  });
});
