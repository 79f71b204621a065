/**
 * A node: one release running in this OS process. It verifies the release with the safe reader, loads
 * every module into the module table, starts the applications in dependency order, and answers what
 * `relup status` and `relup processes` show. Stopping stops the applications in reverse order. Its
 * `port` is what an install's executor sees of it (runtime-port.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { moduleFile, type AppFile } from "../release/app-file.ts";
import { readRelease } from "../release/read-release.ts";
import { appDir, type ReleaseFile } from "../release/release-file.ts";
import { createRuntimeApi } from "./api.ts";
import { ApplicationController } from "./application-controller.ts";
import type { Clock } from "./clock.ts";
import { ModuleTable, notCompiling, type ObjectCode } from "./module-table.ts";
import type { PreparedCode } from "./prepare-release.ts";
import { runtimePort } from "./node-port.ts";
import type { RootConfig } from "./root-config.ts";
import type { RuntimePort } from "./runtime-port.ts";
import { describe } from "./exit-reason.ts";
import { Runtime } from "./runtime.ts";

export interface NodeOptions {
  /** the unpacked release directory */
  releaseDir: string;
  /** env overrides by application (the root's config.json) */
  config?: RootConfig;
  clock?: Clock;
  log?: (event: string, fields: Record<string, unknown>) => void;
  /** a permanent application died: the node should stop (the launcher restarts it) */
  onFatal?: (reason: string) => void;
}

export class Node {
  readonly table: ModuleTable;
  readonly runtime: Runtime;
  readonly controller: ApplicationController;
  /** the executor's view of this node */
  readonly port: RuntimePort;
  release!: ReleaseFile;
  apps: AppFile[] = [];
  releaseDir: string;
  readonly startedAt = Date.now();
  readonly log: NonNullable<NodeOptions["log"]>;

  constructor(private readonly options: NodeOptions) {
    this.releaseDir = options.releaseDir;
    this.log = options.log ?? (() => {});
    this.table = new ModuleTable({
      runtimeApi: (module) => createRuntimeApi(this.runtime, this.controller, module),
      onMissing: (module) => this.table.load(this.readObjectCode(this.releaseDir, this.apps, module)),
    });
    this.runtime = new Runtime(this.table, options.clock ? { clock: options.clock } : {});
    this.runtime.onCrash = (proc, error) => this.log("process crashed", { pid: proc.pid, module: proc.module, error: (error as Error)?.stack ?? String(error) });
    this.runtime.onLateCodeChange = (proc, outcome) =>
      this.log("codeChange settled after its timeout: ignored, the process keeps the state it had", { pid: proc.pid, module: proc.module, ...(outcome.ok ? {} : { error: (outcome.error as Error)?.message ?? String(outcome.error) }) });
    this.controller = new ApplicationController(this.runtime, {
      ...(options.config ? { config: options.config } : {}),
      log: this.log,
      onPermanentExit: (app, reason) => options.onFatal?.(`permanent application ${app} exited: ${describe(reason)}`),
    });
    this.port = runtimePort({ runtime: this.runtime, controller: this.controller, log: this.log, readObjectCode: (dir, apps, ref, prepared) => this.readObjectCode(dir, apps, ref, prepared) });
  }

  get clock(): Clock {
    return this.runtime.clock;
  }

  /** Verify the release, load every module, start every application. */
  async boot(): Promise<void> {
    const loaded = await readRelease(this.releaseDir);
    this.release = loaded.release;
    this.apps = loaded.apps;
    for (const app of this.apps) {
      for (const m of app.modules) {
        const ref = `${app.name}/${m.name}`;
        if (!this.table.isLoaded(ref)) this.table.load(this.readObjectCode(this.releaseDir, this.apps, ref));
      }
      this.controller.load(app);
    }
    await this.controller.startAll();
    this.log("node started", { release: this.release.name, version: this.release.version });
  }

  /** Read and compile one module of a release directory (load_object_code): nothing runs yet. */
  readObjectCode(releaseDir: string, apps: readonly AppFile[], ref: string, prepared?: PreparedCode): ObjectCode {
    return readObjectCode(this.table, releaseDir, apps, ref, prepared);
  }

  /** After an install: the node now runs this release. */
  switchTo(releaseDir: string, release: ReleaseFile, apps: AppFile[]): void {
    this.releaseDir = releaseDir;
    this.release = release;
    this.apps = apps;
  }

  async stop(): Promise<void> {
    await this.controller.stopAll();
    this.log("node stopped", {});
  }

  status() {
    const memory = process.memoryUsage();
    return {
      release: { name: this.release.name, version: this.release.version },
      pid: process.pid,
      /** the launcher's pid while it is there (the IPC channel to it is open); null: nothing restarts this node */
      launcherPid: process.connected ? process.ppid : null,
      uptimeMs: Date.now() - this.startedAt,
      applications: this.controller.list(),
      modules: this.table.modules().map((module) => {
        const current = this.table.current(module);
        const old = this.table.old(module);
        return {
          module,
          current: current ? { vsn: current.vsn, sha256: current.sha256, ...releaseOf(current) } : null,
          old: old ? { vsn: old.vsn, sha256: old.sha256, active: old.active, ...releaseOf(old) } : null,
          processes: this.runtime.countUsing(module),
        };
      }),
      processCount: this.runtime.processCount(),
      memory: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal },
    };
  }

  processes() {
    return this.runtime.processes().map((p) => ({
      pid: p.pid,
      name: p.name ?? null,
      module: p.module,
      modules: p.modules,
      behaviour: p.behaviour.kind,
      status: p.status,
      queue: p.mailbox.length,
      handled: p.handled,
    }));
  }
}

/**
 * Read and compile module `ref` (`app/module`) of an unpacked release directory into `table`'s object
 * code. With `prepared` (the release reader read and compiled it already: prepare-release.ts), its
 * text is compiled with its code cache and no file is read, or its compile error is reported as this
 * compile would have reported it.
 */
export function readObjectCode(table: ModuleTable, releaseDir: string, apps: readonly AppFile[], ref: string, prepared?: PreparedCode): ObjectCode {
  const slash = ref.indexOf("/");
  const app = apps.find((a) => a.name === ref.slice(0, slash));
  const meta = app?.modules.find((m) => m.name === ref.slice(slash + 1));
  if (!app || !meta) throw new Error(`module ${ref} is not in the release`);
  const filename = path.join(releaseDir, appDir(app), moduleFile(meta.name));
  const info = { vsn: meta.vsn, sha256: meta.sha256, releaseDir };
  if (prepared === undefined || prepared.filename !== filename) return table.compile(ref, readFileSync(filename, "utf8"), filename, info);
  if ("error" in prepared) throw notCompiling(ref, prepared.error);
  return table.compile(ref, prepared.source, filename, { ...info, ...(prepared.cachedData ? { cachedData: prepared.cachedData } : {}) });
}

/** The release a module version was read from (`releases/<version>`): its npm packages are that release's. */
function releaseOf(version: { releaseDir?: string }): { release?: string } {
  return version.releaseDir === undefined ? {} : { release: path.basename(version.releaseDir) };
}
