/**
 * The `load_object_code` step (before the point of no return): read and compile the listed modules of the
 * target release, which must have the application at the plan's version. Nothing runs and nothing changes
 * in the node: the code is staged for the `load` steps (a module that does not compile fails here). The
 * release reader has usually read and compiled them already, off the event loop (prepare-release.ts):
 * the step then compiles that text with its code cache, and reports its compile error as its own.
 */
import type { Instruction } from "../../relup/instruction.ts";
import type { ExecOptions, ExecState } from "../executor.ts";
import { wrap } from "./step-error.ts";

export function loadObjectCodeStep(i: Extract<Instruction, { op: "load_object_code" }>, s: ExecState, o: ExecOptions): void {
  const app = o.target.apps.find((a) => a.name === i.application);
  if (!app || app.version !== i.version) throw new Error(`the target release has ${app ? `${i.application} ${app.version}` : `no application ${i.application}`}, not ${i.application} ${i.version}`);
  for (const m of i.modules) {
    const ref = `${i.application}/${m}`;
    s.staged.set(ref, wrap({ module: ref }, () => o.port.readObjectCode(o.target.dir, o.target.apps, ref, o.target.code?.get(ref))));
  }
}
