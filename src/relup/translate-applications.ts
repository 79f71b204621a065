/**
 * Phase 4 of the translation (systools_rc translate_independent_instrs): application instructions become
 * module instructions and calls to the runtime's application controller.
 *   add_application      add_module for each of its modules, then start it (or only load it)
 *   remove_application   stop it, remove each of its modules, purge them, unload it
 *   restart_application  stop, remove and purge every old module, add every new module, start (with no
 *                        type: the runtime starts it with the type it ran with, which only it knows)
 *   apply application.config_change(app, changed, added, removed)
 *                        two steps: set_env_defaults with the same arguments, and config_change(app), which
 *                        tells the application; placeEnvChanges moves them to either end of the script
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
        if (i.module === "application" && i.function === "config_change" && i.args.length > 1) {
          const app = String(i.args[0]);
          out.push(
            { op: "low", instruction: { op: "apply", module: "application", function: "set_env_defaults", args: i.args }, reason: `the env of \`${app}\` changes before any code does: codeChange and the loaded code read the target release's values (keys set in the root's config.json keep theirs)` },
            { op: "low", instruction: { op: "apply", module: "application", function: "config_change", args: [app] }, reason: `\`${app}\` is told of its env changes last, by the code now loaded (its start module's configChange)` },
          );
        } else out.push({ op: "low", instruction: { op: "apply", module: i.module, function: i.function, args: i.args } });
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
        out.push({ op: "low", instruction: { op: "apply", module: "application", function: "start", args: [newApp.name] }, reason: `start \`${newApp.name}\` again with its new modules, with the start type it ran with` });
        break;
      }
      case "point_of_no_return":
      case "restart_new_emulator":
        out.push({ op: i.op });
        break;
      case "sync_nodes":
        // Where the author put it: a barrier between the instructions around it (a block of dependent
        // modules is placed where its first instruction stood, so the barrier stays between blocks).
        out.push({ op: "low", instruction: { op: "sync_nodes", id: i.id, timeoutMs: i.timeoutMs }, reason: `barrier \`${i.id}\` where the appup ${i.origin} puts it` });
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

const isApplication = (item: Item, fn: string) => item.op === "low" && item.instruction.op === "apply" && item.instruction.module === "application" && item.instruction.function === fn;

/**
 * Phase 4b: env changes go to either end of the script after the point of no return, as OTP's
 * release_handler does around the script. set_env_defaults first, before any suspend or load: code_change
 * (up, and down before the older code is loaded) and the code loaded next already read the target
 * release's env. config_change last, once every module is loaded and every process resumed: the
 * application's configChange that runs is the target release's, over a consistent node.
 */
export function placeEnvChanges(items: readonly Item[]): Item[] {
  const first = items.filter((i) => isApplication(i, "set_env_defaults"));
  const last = items.filter((i) => isApplication(i, "config_change"));
  return [...first, ...items.filter((i) => !first.includes(i) && !last.includes(i)), ...last];
}
