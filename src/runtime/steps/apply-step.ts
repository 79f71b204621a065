/**
 * The executor's `apply` step, and the end-of-install commit of the application controller
 * (release_handler's change_appl_data and config_change). Every change records its undo.
 *
 *   apply M.F(args)                          call a release module's function (its effects cannot be undone)
 *   apply application.load(app)              load the target release's app file
 *   apply application.start(app, type?)      start it with the target release's app file: start module, env,
 *                                            dependencies (what restart_application needs); without a type,
 *                                            with the type it ran with (permanent if it never ran)
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
 * Start types: application.start without a type (restart_application) starts the application with the
 * type it ran with (OTP restarts it with its release's start type; relup's releases name none, and the
 * running type is the operator's choice); an application that was never started starts permanent. The
 * undo of application.stop starts it again with the type it ran with.
 *
 * Timeouts: no user callback holds the install (and the release handler's queue behind it) forever. An
 * `apply M:F`, a configChange and a start module's stop must settle within the install's code-change
 * timeout (the appup's per-module codeChangeTimeout does not apply; `relup apply --code-change-timeout`
 * does; default 5 s), an application's start within the node's start timeout (its boot timeout, default
 * 60 s). On expiry the step fails naming the callback and the fix, and the install rolls back; the undo
 * steps are bounded the same way. A callback that never returns at all blocks the event loop: the
 * launcher's watchdog restarts the node.
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
import type { EnvChange, StartType } from "../application-controller.ts";
import type { ExecTarget } from "../executor.ts";
import type { RuntimePort } from "../runtime-port.ts";
import { DEFAULT_CODE_CHANGE_TIMEOUT, type Timeout } from "../runtime.ts";
import { CallbackTimeout, settleWithin } from "../settle-within.ts";
import { StepError } from "./step-error.ts";

export const APPLICATION_FUNCTIONS = ["load", "start", "stop", "unload", "set_env_defaults", "config_change"] as const;

export interface ApplicationSteps {
  apply(i: Extract<Instruction, { op: "apply" }>): Promise<void>;
  commit(): Promise<void>;
  /** After a rollback: a permanent application it could not start again takes the node down. */
  rolledBack(): void;
}

/**
 * `undo` records how to undo a change; `restart` how to start again what a step stopped (run after every
 * undo); `codeChangeTimeout` bounds each user callback an install runs here.
 */
export function applicationSteps(
  port: RuntimePort,
  target: ExecTarget,
  undo: (fn: () => Promise<unknown> | unknown) => void,
  restart: (fn: () => Promise<unknown> | unknown) => void = undo,
  codeChangeTimeout?: Timeout,
): ApplicationSteps {
  const controller = port.applications;
  /** how long an apply M:F, a configChange or a start module's stop may take */
  const timeout = { timeout: codeChangeTimeout ?? DEFAULT_CODE_CHANGE_TIMEOUT };
  let configured = false;
  /** applications the plan stopped that the rollback could not start again */
  const notRestarted: { app: string; error: unknown }[] = [];
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
    // The controller puts back the spec only (app file and env): the run state stays what it is now.
    undo(() => controller.restore(snapshot));
    return fn();
  };
  /** Tell `app` of its effective env changes; on rollback it is told of the way back. */
  const notify = async (app: string, when = "") => {
    const before = controller.told(app);
    const start = controller.appFile(app)?.start;
    let told: EnvChange | undefined;
    try {
      told = await controller.configChange(app, timeout);
    } catch (error) {
      throw new StepError(new Error(`configChange of ${app}${when} failed: ${(error as Error).message}`), start ? { module: `${app}/${start}` } : {});
    }
    if (told && before) undo(() => controller.tell(app, before, timeout));
  };

  async function apply(i: Extract<Instruction, { op: "apply" }>): Promise<void> {
    if (i.module !== "application") {
      const fn = port.modules.namespace(i.module)[i.function];
      if (typeof fn !== "function") throw new StepError(new Error(`${i.module} does not export ${i.function}`), { module: i.module });
      const callback = `${i.module}.${i.function}`;
      try {
        await settleWithin((fn as (...a: unknown[]) => unknown)(...i.args), timeout.timeout, (ms) => new CallbackTimeout(`${callback} did not settle`, ms, `make ${callback} settle sooner, or give the install a longer timeout (\`relup apply --code-change-timeout <ms>\`)`));
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
        const type = (i.args[1] as StartType | undefined) ?? controller.startType(app) ?? "permanent";
        // Before the start, so that a start that fails halfway (its timeout) is stopped too; not an
        // application that was running already (start leaves it as it is).
        if (controller.list().find((a) => a.name === app)?.status !== "running") undo(() => controller.stop(app, timeout));
        await controller.start(app, type);
        return;
      }
      case "stop": {
        const was = controller.list().find((a) => a.name === app)?.status;
        const type = controller.startType(app);
        // Before the stop, so that a stop whose callback times out (the top is gone by then) is undone too.
        if (was === "running") {
          restart(async () => {
            try {
              await controller.start(app, type);
            } catch (error) {
              notRestarted.push({ app, error });
              throw error;
            }
          });
        }
        await controller.stop(app, timeout);
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

  function rolledBack(): void {
    for (const { app, error } of notRestarted.splice(0)) controller.restartFailed(app, new Error(`it could not be started again by the rollback of a failed install: ${(error as Error)?.message ?? String(error)}`));
  }

  return { apply, commit, rolledBack };
}

function envChangeArgs(args: readonly Json[]): EnvChange {
  const [, changed, added, removed] = args as [string, Record<string, Json> | undefined, Record<string, Json> | undefined, string[] | undefined];
  return { changed: changed ?? {}, added: added ?? {}, removed: removed ?? [] };
}
