import { assertNever } from "../errors.ts";
import type { Instruction } from "./instruction.ts";

/** A step in words for messages: its op and what it acts on (`load shop/cart`, `apply application.stop`). */
export function describeStep(i: Instruction): string {
  switch (i.op) {
    case "load":
    case "remove":
      return `${i.op} ${i.module}`;
    case "apply":
      return `apply ${i.module}.${i.function}`;
    case "load_object_code":
      return `${i.op} ${i.application} ${i.version}`;
    case "suspend":
    case "resume":
    case "stop":
    case "start":
    case "purge":
      return `${i.op} ${i.modules.join(", ")}`;
    case "code_change":
      return `code_change ${i.mode} ${i.modules.map((m) => m.module).join(", ")}`;
    case "restart_new_emulator":
    case "point_of_no_return":
      return i.op;
    case "sync_nodes":
      return `sync_nodes ${i.id}`;
    default:
      return assertNever(i);
  }
}
