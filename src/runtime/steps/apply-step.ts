/**
 * The executor's `apply` step, and the end-of-install commit of the application controller
 * (release_handler's change_appl_data and config_change). Every change records its undo.
 *
 *   apply M.F(args)                          call a release module's function (its effects cannot be undone)
 *   apply application.load(app)              load the target release's app file
 *   apply application.start(app, type)       start it with the target release's app file: start module, env,
 *                                            dependencies (what restart_application needs)
 *   apply application.stop(app)              stop it, calling the stop of the start module it was started with
 *   apply application.unload(app)            forget it
 *   apply application.set_env_defaults(app, changed, added, removed)
 *                                            change its env defaults; a key the root's config.json overrides
 *                                            keeps the override. Visible at once to every module and codeChange
 *   apply application.config_change(app)     tell the running application (its start module's configChange)
 *                                            of the keys whose effective value changed since it was last told.
 *                                            The older form with (app, changed, added, removed) sets the
 *                                            defaults first, then tells.
 *
 * The first step that touches env makes the overrides the ones the install read from config.json.
 *
 * commit, after the last step: every loaded application of the target release takes that release's app
 * file (version, start module, dependencies, env defaults), whatever the plan said, and each running
 * application is told of the env changes the plan did not already tell it of. The installed release's
 * app files are the truth; a rollback of the install puts the older ones back.
 */
import { startOrder } from "../../release/app-graph.ts";
import type { AppFile } from "../../release/app-file.ts";
import type { Json } from "../../release/names.ts";
import type { Instruction } from "../../relup/instruction.ts";
import type { AppSnapshot, EnvChange } from "../application-controller.ts";
import type { ExecTarget } from "../executor.ts";
import type { Node } from "../node.ts";
import { StepError } from "./step-error.ts";

export const APPLICATION_FUNCTIONS = ["load", "start", "stop", "unload", "set_env_defaults", "config_change"] as const;

export interface ApplicationSteps {
  apply(i: Extract<Instruction, { op: "apply" }>): Promise<void>;
  commit(): Promise<void>;
}

/** `undo` records how to undo a change; `restart` how to start again what a step stopped (run after every undo). */
export function applicationSteps(
  node: Node,
  target: ExecTarget,
  undo: (fn: () => Promise<unknown> | unknown) => void,
  restart: (fn: () => Promise<unknown> | unknown) => void = undo,
): ApplicationSteps {
  const { controller, table } = node;
  let configured = false;
  /** From the first env change on, the overrides are those the install read. */
  const useTargetConfig = () => {
    if (configured || !target.config) return;
    configured = true;
    const before = controller.config;
    controller.useConfig(target.config);
    undo(() => controller.useConfig(before));
  };
  const targetApp = (name: string): AppFile => {
    const app = target.apps.find((a) => a.name === name);
    if (!app) throw new Error(`the target release has no application ${name}`);
    return app;
  };
  const loaded = (name: string) => controller.appFile(name) !== undefined;
  const change = <T>(name: string, fn: () => T): T => {
    const snapshot = controller.snapshot(name);
    undo(() => controller.restore(withRunState(snapshot, controller.snapshot(name))));
    return fn();
  };
  /** Tell `app` of its effective env changes; on rollback it is told of the way back. */
  const notify = async (app: string, when = "") => {
    const before = controller.told(app);
    const start = controller.appFile(app)?.start;
    let told: EnvChange | undefined;
    try {
      told = await controller.configChange(app);
    } catch (error) {
      throw new StepError(new Error(`configChange of ${app}${when} failed: ${(error as Error).message}`), start ? { module: `${app}/${start}` } : {});
    }
    if (told && before) undo(() => controller.tell(app, before));
  };

  async function apply(i: Extract<Instruction, { op: "apply" }>): Promise<void> {
    if (i.module !== "application") {
      const fn = table.namespace(i.module)[i.function];
      if (typeof fn !== "function") throw new StepError(new Error(`${i.module} does not export ${i.function}`), { module: i.module });
      try {
        await (fn as (...a: unknown[]) => unknown)(...i.args);
      } catch (error) {
        throw new StepError(error as Error, { module: i.module });
      }
      return;
    }
    const app = String(i.args[0]);
    switch (i.function) {
      case "load":
        useTargetConfig();
        controller.load(targetApp(app));
        undo(() => controller.unload(app));
        return;
      case "start": {
        useTargetConfig();
        if (!loaded(app)) {
          controller.load(targetApp(app));
          undo(() => controller.unload(app));
        } else if (controller.list().find((a) => a.name === app)?.status !== "running" && target.apps.some((a) => a.name === app)) {
          // Started again during an install (restart_application): with the target release's app file.
          change(app, () => controller.changeApplicationData(targetApp(app)));
        }
        await controller.start(app, (i.args[1] as "permanent" | "transient" | "temporary" | undefined) ?? "permanent");
        undo(() => controller.stop(app));
        return;
      }
      case "stop": {
        const was = controller.list().find((a) => a.name === app)?.status;
        await controller.stop(app);
        if (was === "running") restart(() => controller.start(app));
        return;
      }
      case "unload": {
        if (!loaded(app)) return;
        change(app, () => controller.unload(app));
        return;
      }
      case "set_env_defaults":
        useTargetConfig();
        change(app, () => controller.setEnvDefaults(app, envChangeArgs(i.args)));
        return;
      case "config_change":
        if (i.args.length > 1) {
          useTargetConfig();
          change(app, () => controller.setEnvDefaults(app, envChangeArgs(i.args)));
        }
        return notify(app);
      default:
        throw new Error(`application.${i.function} is not an application controller function (${APPLICATION_FUNCTIONS.join(", ")})`);
    }
  }

  async function commit(): Promise<void> {
    useTargetConfig();
    const apps = target.apps.filter((a) => loaded(a.name));
    for (const app of apps) change(app.name, () => controller.changeApplicationData(app));
    for (const name of startOrder(apps)) await notify(name, ", told of its new env when the install committed after the last step,");
  }

  return { apply, commit };
}

/**
 * The app file and env `before` held, with the run state the application has `now` (status, top
 * supervisor, start type and module): a start or stop is undone by its own undo entry or restart, so
 * putting back an app file never revives a stale top supervisor or hides a stop from the restart.
 */
function withRunState(before: AppSnapshot, now: AppSnapshot): AppSnapshot {
  if (!before.entry || !now.entry) return before;
  const { status, type, top, startedWith } = now.entry;
  return { ...before, entry: { ...before.entry, status, type, top, startedWith } };
}

function envChangeArgs(args: readonly Json[]): EnvChange {
  const [, changed, added, removed] = args as [string, Record<string, Json> | undefined, Record<string, Json> | undefined, string[] | undefined];
  return { changed: changed ?? {}, added: added ?? {}, removed: removed ?? [] };
}
