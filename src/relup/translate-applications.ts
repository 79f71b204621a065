/**
 * Phase 4 of the translation (systools_rc translate_independent_instrs): application instructions become
 * module instructions and calls to the runtime's application controller.
 *   add_application      add_module for each of its modules, then start it (or only load it)
 *   remove_application   stop it, remove each of its modules, purge them, unload it
 *   restart_application  stop, remove and purge every old module, add every new module, start
 * Other instructions pass through; a high-level `apply` becomes the low-level one.
 */
import { assertNever } from "../errors.ts";
import type { AppFile } from "../release/app-file.ts";
import type { DepInstr, ExpandedInstr } from "./expand.ts";
import type { Instruction } from "./instruction.ts";
import { findApp, type ReleaseModel } from "./release-model.ts";

/** A low-level instruction placed as it is, with why it is there. */
export interface LowItem {
  op: "low";
  instruction: Instruction;
  reason?: string;
}
export type Item = DepInstr | LowItem | { op: "point_of_no_return" } | { op: "restart_new_emulator" };

export function translateApplications(instrs: readonly ExpandedInstr[], from: ReleaseModel, to: ReleaseModel): Item[] {
  const changing = new Set(instrs.flatMap((i) => (i.op === "dep" ? [i.module] : [])));
  const out: Item[] = [];
  for (const i of instrs) {
    switch (i.op) {
      case "dep":
        out.push(i);
        break;
      case "apply":
        out.push({ op: "low", instruction: { op: "apply", module: i.module, function: i.function, args: i.args } });
        break;
      case "add_application": {
        const app = findApp(to, i.application)!;
        const modules = addModules(app, i.origin, i.field, changing);
        out.push(...modules);
        const type = i.type ?? "permanent";
        if (type !== "none") {
          const fn = type === "load" ? "load" : "start";
          out.push({ op: "low", instruction: { op: "apply", module: "application", function: fn, args: fn === "start" ? [app.name, type] : [app.name] }, reason: `${fn} \`${app.name}\` once its modules are loaded` });
        }
        break;
      }
      case "remove_application":
        out.push(...removeApp(findApp(from, i.application)!, true));
        break;
      case "restart_application": {
        const newApp = findApp(to, i.application)!;
        out.push(...removeApp(findApp(from, i.application)!, false));
        out.push(...addModules(newApp, i.origin, i.field, changing));
        out.push({ op: "low", instruction: { op: "apply", module: "application", function: "start", args: [newApp.name, "permanent"] }, reason: `start \`${newApp.name}\` again with its new modules` });
        break;
      }
      case "point_of_no_return":
      case "restart_new_emulator":
        out.push({ op: i.op });
        break;
      default:
        assertNever(i);
    }
  }
  return out;
}

function addModules(app: AppFile, origin: string, field: string, changing: Set<string>): DepInstr[] {
  const own = new Set(app.modules.map((m) => `${app.name}/${m.name}`));
  return app.modules.map((m) => ({
    op: "dep",
    kind: "add_module",
    app: app.name,
    module: `${app.name}/${m.name}`,
    change: "soft",
    modType: "dynamic",
    timeout: undefined,
    prePurge: "brutal_purge",
    postPurge: "brutal_purge",
    dependsOn: m.imports.filter((dep) => own.has(dep) || changing.has(dep)),
    origin,
    field,
  }));
}

function removeApp(app: AppFile, unload: boolean): LowItem[] {
  const modules = app.modules.map((m) => `${app.name}/${m.name}`);
  const items: LowItem[] = [
    { op: "low", instruction: { op: "apply", module: "application", function: "stop", args: [app.name] }, reason: `stop \`${app.name}\` before its modules are removed` },
    ...modules.map((module): LowItem => ({ op: "low", instruction: { op: "remove", module, prePurge: "brutal_purge", postPurge: "brutal_purge" } })),
    { op: "low", instruction: { op: "purge", modules } },
  ];
  if (unload) items.push({ op: "low", instruction: { op: "apply", module: "application", function: "unload", args: [app.name] } });
  return items;
}
