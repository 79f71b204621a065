/** The inverse of one high-level instruction, for generated downgrades (cf. rebar3_appup_plugin's invert_instruction). */
import { BugError, assertNever } from "../errors.ts";
import type { AppupInstruction } from "./instruction.ts";

export function invert(i: AppupInstruction): AppupInstruction {
  switch (i.op) {
    case "load_module":
    case "update":
    case "restart_application":
    case "restart_new_emulator":
    case "point_of_no_return":
    case "sync_nodes":
      return i;
    case "add_module":
      return { op: "delete_module", module: i.module, ...(i.dependsOn ? { dependsOn: i.dependsOn } : {}) };
    case "delete_module":
      return { op: "add_module", module: i.module, ...(i.dependsOn ? { dependsOn: i.dependsOn } : {}) };
    case "add_application":
      return { op: "remove_application", application: i.application };
    case "remove_application":
      return { op: "add_application", application: i.application };
    case "apply":
      throw new BugError(`an apply of ${i.module}.${i.function} has no generic inverse; the generator must build its downgrade`);
    default:
      return assertNever(i);
  }
}
