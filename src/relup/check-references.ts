/**
 * Phase 2 of the translation (systools_rc check_syntax, no_such_module, muldef_module): every name an
 * instruction uses exists where it must, and no module has two instructions. The same checks run on
 * generated and hand-written appups.
 *   update, load_module, add_module   the module is in the target release
 *   delete_module                     the module is in the running release, and nothing in the target imports it
 *   dependsOn                         names a module of either release
 *   add_application                   the application is in the target release
 *   remove_application                the application is in the running release and not in the target
 *   restart_application               the application is in both, and no module of it has an instruction
 *                                     of its own (the restart replaces every module: a second load or
 *                                     update of one would leave it removed)
 *   apply                             a release module of the target release, or `application`
 */
import { assertNever } from "../errors.ts";
import type { ExpandedInstr } from "./expand.ts";
import type { PlanIssue, PlanWarning } from "./issues.ts";
import { findApp, label, moduleIndex, type ReleaseModel } from "./release-model.ts";

export function checkReferences(
  instrs: readonly ExpandedInstr[],
  from: ReleaseModel,
  to: ReleaseModel,
): { issues: PlanIssue[]; warnings: PlanWarning[] } {
  const issues: PlanIssue[] = [];
  const warnings: PlanWarning[] = [];
  const before = moduleIndex(from);
  const after = moduleIndex(to);
  const seen = new Set<string>();
  const withInstruction = new Set(instrs.flatMap((i) => (i.op === "dep" ? [i.module] : [])));
  const restarted = new Set(instrs.flatMap((i) => (i.op === "restart_application" ? [i.application] : [])));
  const importers = new Map<string, string[]>();
  for (const { app, module } of after.values()) {
    for (const i of module.imports) importers.set(i, [...(importers.get(i) ?? []), `${app.name}/${module.name}`]);
  }
  const unknownModule = (i: ExpandedInstr, field: string, module: string, where: ReleaseModel) =>
    issues.push({ code: "unknown-module", file: i.origin, field, module, release: label(where) });
  const unknownApp = (i: ExpandedInstr, application: string, where: ReleaseModel) =>
    issues.push({ code: "unknown-application", file: i.origin, field: `${i.field}.application`, application, release: label(where) });

  for (const i of instrs) {
    switch (i.op) {
      case "dep": {
        if (i.kind === "delete_module") {
          if (!before.has(i.module)) unknownModule(i, `${i.field}.module`, i.module, from);
          const importedBy = importers.get(i.module) ?? [];
          if (importedBy.length > 0) issues.push({ code: "removed-module-imported", module: i.module, importedBy: [...importedBy].sort() });
        } else if (!after.has(i.module)) {
          unknownModule(i, `${i.field}.module`, i.module, to);
        }
        if (seen.has(i.module)) issues.push({ code: "duplicate-module-instruction", module: i.module, file: i.origin });
        const app = i.module.slice(0, i.module.indexOf("/"));
        if (restarted.has(app)) issues.push({ code: "restarted-application-module", file: i.origin, field: `${i.field}.module`, module: i.module, application: app });
        seen.add(i.module);
        i.dependsOn.forEach((dep, j) => {
          if (!before.has(dep) && !after.has(dep)) unknownModule(i, `${i.field}.dependsOn[${j}]`, dep, to);
          else if (!withInstruction.has(dep)) warnings.push({ code: "unordered-dependency", module: i.module, dependsOn: dep });
        });
        break;
      }
      case "add_application":
        if (!findApp(to, i.application)) unknownApp(i, i.application, to);
        break;
      case "remove_application":
        if (!findApp(from, i.application)) unknownApp(i, i.application, from);
        else if (findApp(to, i.application)) {
          issues.push({ code: "removed-application-present", file: i.origin, field: `${i.field}.application`, application: i.application });
        }
        break;
      case "restart_application":
        if (!findApp(from, i.application)) unknownApp(i, i.application, from);
        if (!findApp(to, i.application)) unknownApp(i, i.application, to);
        break;
      case "apply":
        if (i.module !== "application" && !after.has(i.module)) unknownModule(i, `${i.field}.module`, i.module, to);
        break;
      case "restart_new_emulator":
      case "point_of_no_return":
      case "sync_nodes":
        break;
      default:
        assertNever(i);
    }
  }
  return { issues, warnings };
}
