/**
 * Phase 1 of the translation (systools_rc expand_script + normalize_instrs): every high-level
 * instruction gets its defaults filled in and its module names qualified (`app/module`), so that later
 * phases see one shape. Instructions that carry dependencies (update, load_module, add_module,
 * delete_module) become `DepInstr`s; the others keep their high-level form for the next phases.
 */
import type { AppupInstruction, PurgeMethod, Timeout } from "../appup/instruction.ts";
import { assertNever } from "../errors.ts";
import type { Json } from "../release/names.ts";

export interface Script {
  /** the application whose appup this is */
  app: string;
  /** where it came from, for messages: an appup.json path, or "generated" */
  origin: string;
  instructions: AppupInstruction[];
}

export interface DepInstr {
  op: "dep";
  kind: "load_module" | "update" | "add_module" | "delete_module";
  app: string;
  /** `app/module` */
  module: string;
  /** update only: soft (no state migration), advanced (codeChange with extra) */
  change: { advanced: Json } | "soft";
  /** static: supervisors, whose codeChange re-runs the loaded init (so on the way down it runs after the load) */
  modType: "static" | "dynamic";
  /** how long each process may take to suspend (update only) */
  timeout: Timeout | undefined;
  /** how long each process's codeChange may take (update only) */
  codeChangeTimeout?: Timeout | undefined;
  prePurge: PurgeMethod;
  postPurge: PurgeMethod;
  dependsOn: string[];
  /** where the instruction came from and its index there, for messages */
  origin: string;
  field: string;
}

export type HighInstr = Exclude<AppupInstruction, { op: "update" | "load_module" | "add_module" | "delete_module" }>;
export type ExpandedInstr = DepInstr | (HighInstr & { origin: string; field: string; app: string });

export function expand(scripts: readonly Script[], section: "up" | "down"): ExpandedInstr[] {
  return scripts.flatMap((script) =>
    script.instructions.map((i, index): ExpandedInstr => {
      const origin = script.origin;
      const field = `${section}.instructions[${index}]`;
      const qualify = (m: string) => (m.includes("/") && !m.startsWith("./") ? m : `${script.app}/${m}`);
      switch (i.op) {
        case "update": {
          const supervisor = i.change === "supervisor";
          return {
            op: "dep",
            kind: "update",
            app: script.app,
            module: qualify(i.module),
            // A supervisor update always migrates: its codeChange re-reads the child specs (OTP: {advanced, []}).
            change: i.change === "supervisor" ? { advanced: null } : (i.change ?? "soft"),
            modType: i.modType ?? (supervisor ? "static" : "dynamic"),
            timeout: i.timeout,
            codeChangeTimeout: i.codeChangeTimeout,
            prePurge: i.prePurge ?? "brutal_purge",
            postPurge: i.postPurge ?? "brutal_purge",
            dependsOn: (i.dependsOn ?? []).map(qualify),
            origin,
            field,
          };
        }
        case "load_module":
        case "add_module":
        case "delete_module":
          return {
            op: "dep",
            kind: i.op,
            app: script.app,
            module: qualify(i.module),
            change: "soft",
            modType: "dynamic",
            timeout: undefined,
            // A new module has no old code: purge methods do not matter there. A deleted one's postPurge says
            // what its purge does to processes still running it (OTP's delete_module is always brutal).
            prePurge: i.op === "add_module" ? "brutal_purge" : (i.prePurge ?? "brutal_purge"),
            postPurge: i.op === "add_module" ? "brutal_purge" : (i.postPurge ?? "brutal_purge"),
            dependsOn: (i.dependsOn ?? []).map(qualify),
            origin,
            field,
          };
        case "apply":
          return { ...i, module: i.module.includes("/") || i.module === "application" ? i.module : qualify(i.module), origin, field, app: script.app };
        case "add_application":
        case "remove_application":
        case "restart_application":
        case "restart_new_emulator":
        case "point_of_no_return":
        case "sync_nodes":
          return { ...i, origin, field, app: script.app };
        default:
          return assertNever(i);
      }
    }),
  );
}
