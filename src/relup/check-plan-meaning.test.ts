/**
 * The meaning check, rule by rule: a generated plan passes, and each edit that makes it do something the
 * releases do not call for (or leave undone what they need) is found, with the section, the step and why.
 */
import { describe, expect, it } from "vitest";
import { model, type AppSpec } from "../../test/helpers/model.ts";
import { checkPlanMeaning } from "./check-plan-meaning.ts";
import { generatePlan } from "./generate-plan.ts";
import type { Instruction, RelupFile } from "./instruction.ts";
import { formatPlanIssue, type MeaningProblem, type PlanIssue } from "./issues.ts";

const v1: AppSpec[] = [
  { name: "shop", version: "1.0.0", modules: [{ name: "cart", behaviour: "server", vsn: 1 }, { name: "tax" }, { name: "old" }, { name: "price" }] },
  { name: "mail", version: "1.0.0", modules: [{ name: "smtp" }] },
];
const v2: AppSpec[] = [
  { name: "shop", version: "2.0.0", modules: [{ name: "cart", behaviour: "server", vsn: 2, code: "v2", exports: ["codeChange"] }, { name: "tax", code: "v2" }, { name: "fresh" }, { name: "price" }] },
  { name: "mail", version: "1.0.0", modules: [{ name: "smtp" }] },
];
const from = model({ version: "1.0.0", apps: v1 });
const to = model({ version: "2.0.0", apps: v2 });
const generated = (() => {
  const result = generatePlan(from, to);
  if (!result.ok) throw new Error(result.issues.map(formatPlanIssue).join("\n"));
  return result.value.file;
})();

const B = "brutal_purge" as const;
type Edit = (s: Instruction[]) => Instruction[];
const afterPonr = (step: Instruction): Edit => (s) => {
  const at = s.findIndex((i) => i.op === "point_of_no_return") + 1;
  return [...s.slice(0, at), step, ...s.slice(at)];
};
const problems = (plan: RelupFile) => checkPlanMeaning(plan, from, to).map((i) => (i.code === "plan-meaning" ? { section: i.section, op: i.op, problem: i.problem } : i));
const edited = (section: "up" | "down", edit: Edit) => problems({ ...generated, [section]: edit(structuredClone(generated[section])) });
const meaning = (section: "up" | "down", problem: MeaningProblem, op?: Instruction["op"]) => ({ section, op, problem });

describe("checkPlanMeaning", () => {
  it("passes the generated plan", () => {
    expect(problems(generated)).toEqual([]);
  });

  it("a deleted code_change: the server's state is not migrated, in the section it was deleted from", () => {
    expect(edited("up", (s) => s.filter((i) => i.op !== "code_change"))).toEqual([meaning("up", { kind: "state-not-migrated", module: "shop/cart", from: "1", to: "2", mode: "up" }, "load")]);
    expect(edited("down", (s) => s.filter((i) => i.op !== "code_change"))).toEqual([meaning("down", { kind: "state-not-migrated", module: "shop/cart", from: "2", to: "1", mode: "down" }, "load")]);
  });

  it("a code_change of the wrong mode", () => {
    const flipped = edited("up", (s) => s.map((i) => (i.op === "code_change" ? { ...i, mode: "down" } : i)));
    expect(flipped).toContainEqual(meaning("up", { kind: "code-change-mode", mode: "down" }, "code_change"));
  });

  it("a changed module left unloaded, an added one never loaded, a removed one never removed", () => {
    expect(edited("up", (s) => s.filter((i) => !(i.op === "load" && i.module === "shop/tax")))).toEqual([meaning("up", { kind: "not-loaded", module: "shop/tax", added: false })]);
    expect(edited("up", (s) => s.filter((i) => !(i.op === "load" && i.module === "shop/fresh")))).toEqual([meaning("up", { kind: "not-loaded", module: "shop/fresh", added: true })]);
    expect(edited("up", (s) => s.filter((i) => !(i.op === "remove" || i.op === "purge")))).toEqual([meaning("up", { kind: "not-removed", module: "shop/old" })]);
  });

  it("destructive steps the difference does not call for: remove, purge, stop of an unchanged module; stop or unload of an application that stays", () => {
    expect(edited("up", afterPonr({ op: "remove", module: "shop/price", prePurge: B, postPurge: B }))).toEqual([meaning("up", { kind: "remove-staying", module: "shop/price" }, "remove")]);
    expect(edited("up", (s) => [...s, { op: "remove", module: "shop/tax", prePurge: B, postPurge: B }])).toEqual([meaning("up", { kind: "remove-staying", module: "shop/tax" }, "remove")]);
    expect(edited("up", afterPonr({ op: "remove", module: "shop/nothing", prePurge: B, postPurge: B }))).toEqual([meaning("up", { kind: "unknown-module", module: "shop/nothing" }, "remove")]);
    expect(edited("up", afterPonr({ op: "purge", modules: ["mail/smtp"] }))).toEqual([meaning("up", { kind: "purge-untouched", module: "mail/smtp" }, "purge")]);
    expect(edited("up", (s) => [...afterPonr({ op: "stop", modules: ["mail/smtp"] })(s), { op: "start", modules: ["mail/smtp"] }])).toEqual([meaning("up", { kind: "stop-unchanged", module: "mail/smtp" }, "stop")]);
    for (const fn of ["stop", "unload"]) {
      expect(edited("down", afterPonr({ op: "apply", module: "application", function: fn, args: ["mail"] }))).toEqual([meaning("down", { kind: "application-ended", application: "mail", function: fn }, "apply")]);
    }
  });

  it("an application stopped and started again (a restart) is no problem, and its servers need no code_change", () => {
    const restart: Edit = (s) => [...afterPonr({ op: "apply", module: "application", function: "stop", args: ["shop"] })(s.filter((i) => i.op !== "code_change")), { op: "apply", module: "application", function: "start", args: ["shop"] }];
    expect(edited("up", restart)).toEqual([]);
  });

  describe("order: a step counts only where it stands", () => {
    const move = (s: Instruction[], op: Instruction["op"], before: (i: Instruction) => boolean) => {
      const step = s.find((i) => i.op === op)!;
      const rest = s.filter((i) => i !== step);
      const at = rest.findIndex(before);
      return [...rest.slice(0, at), step, ...rest.slice(at)];
    };
    const isLoad = (m: string) => (i: Instruction) => i.op === "load" && i.module === m;
    const app = (fn: string, name = "shop"): Instruction => ({ op: "apply", module: "application", function: fn, args: [name] });
    const noCodeChange = (s: Instruction[]) => s.filter((i) => i.op !== "code_change");
    /** `steps` right after the point of no return (before every load of the section) */
    const first = (...steps: Instruction[]): Edit => (s) => steps.reduceRight((acc, step) => afterPonr(step)(acc), s);

    it("code_change up before the load of its module: the old code's codeChange would run, the new code get old-shaped state", () => {
      expect(edited("up", (s) => move(s, "code_change", isLoad("shop/cart")))).toEqual([meaning("up", { kind: "code-change-order", module: "shop/cart", mode: "up" }, "code_change")]);
    });

    it("code_change down in the load's suspension, before (the newer code migrates) or after it (modType static); not in another suspension", () => {
      expect(edited("down", (s) => move(s, "load", (i) => i.op === "code_change"))).toEqual([]);
      const apart: Edit = (s) => s.flatMap((i): Instruction[] => (i.op === "code_change" ? [i, { op: "resume", modules: ["shop/cart"] }, { op: "suspend", modules: ["shop/cart"] }] : [i]));
      expect(edited("down", apart)).toEqual([meaning("down", { kind: "code-change-order", module: "shop/cart", mode: "down" }, "code_change")]);
    });

    it("an application stopped and started again before the load, code_change deleted: its processes would restart on old code and keep old state", () => {
      expect(edited("up", (s) => first(app("stop"), app("start"))(noCodeChange(s)))).toEqual([meaning("up", { kind: "state-not-migrated", module: "shop/cart", from: "1", to: "2", mode: "up" }, "load")]);
    });

    it("an application stopped after the load: the running processes took the new code with old state", () => {
      const late: Edit = (s) => [...noCodeChange(s), app("stop"), app("start")];
      expect(edited("up", late)).toEqual([meaning("up", { kind: "state-not-migrated", module: "shop/cart", from: "1", to: "2", mode: "up" }, "load")]);
    });

    it("the module's processes stopped before its load and started after it need no code_change; started before it, they do", () => {
      const around: Edit = (s) => [...first({ op: "stop", modules: ["shop/cart"] })(noCodeChange(s)), { op: "start", modules: ["shop/cart"] }];
      expect(edited("up", around)).toEqual([]);
      const before = first({ op: "stop", modules: ["shop/cart"] }, { op: "start", modules: ["shop/cart"] });
      expect(edited("up", (s) => before(noCodeChange(s)))).toEqual([meaning("up", { kind: "state-not-migrated", module: "shop/cart", from: "1", to: "2", mode: "up" }, "load")]);
    });

    it("stop, remove and load again of a module that stays, never started: its processes would be gone for good", () => {
      const B2 = { prePurge: B, postPurge: B };
      const edit = first({ op: "stop", modules: ["shop/cart"] }, { op: "remove", module: "shop/cart", ...B2 });
      expect(edited("up", (s) => edit(noCodeChange(s)))).toEqual([meaning("up", { kind: "stopped-not-started", module: "shop/cart" }, "stop")]);
    });
  });

  it("a section that restarts the node boots the target whole: nothing to check", () => {
    expect(problems({ ...generated, up: [{ op: "restart_new_emulator" }, { op: "point_of_no_return" }] })).toEqual([]);
  });

  it("names the section, the step (1-based) and what it acts on", () => {
    const issues: PlanIssue[] = checkPlanMeaning({ ...generated, up: afterPonr({ op: "purge", modules: ["mail/smtp"] })(generated.up) }, from, to);
    const at = generated.up.findIndex((i) => i.op === "point_of_no_return") + 2;
    expect(issues.map(formatPlanIssue)).toEqual([expect.stringMatching(new RegExp(`^up step ${at} \\(purge mail/smtp\\): purge of \`mail/smtp\`, which the section neither loads nor removes`))]);
    // On the node the plan was given: the fix is the generated plan.
    expect(formatPlanIssue(issues[0]!)).toContain("Fix: use the plan `relup generate` makes for these releases");
  });
});
