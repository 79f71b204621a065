/**
 * The executor lets the event loop turn after the load_object_code steps and before the step that follows
 * them: compiling the new code and the swap (the load steps, after the point of no return) are two blocks
 * of the event loop, not one. Seen as an order of events: an immediate queued when the first step starts
 * runs before the second step starts.
 */
import { describe, expect, it } from "vitest";
import type { AppFile } from "../../src/release/app-file.ts";
import type { Instruction } from "../../src/relup/instruction.ts";
import { ApplicationController } from "../../src/runtime/application-controller.ts";
import { execute, type Progress } from "../../src/runtime/executor.ts";
import { runtimePort } from "../../src/runtime/node-port.ts";
import { testRuntime } from "../helpers/runtime.ts";

const V1 = `exports.v = () => 1;`;
const V2 = `exports.v = () => 2;`;
const script: Instruction[] = [
  { op: "load_object_code", application: "a", version: "2.0.0", modules: ["m"] },
  { op: "point_of_no_return" },
  { op: "load", module: "a/m", prePurge: "brutal_purge", postPurge: "brutal_purge" },
];

describe("compiling and swapping are two turns of the event loop", () => {
  it("an immediate queued as load_object_code starts runs before the next step starts", async () => {
    const { runtime, table } = testRuntime({ "a/m": V1 });
    const log = () => undefined;
    const controller = new ApplicationController(runtime, { log });
    const readObjectCode = (_dir: string, _apps: readonly AppFile[], ref: string) => table.compile(ref, V2, `/virtual/2/${ref}.js`, { vsn: 2, sha256: "2" });
    const port = runtimePort({ runtime, controller, readObjectCode, log });
    const events: string[] = [];
    const progress = (event: Progress) => {
      if (event.phase !== "step") return;
      events.push(`step ${event.index}`);
      if (event.index === 0) setImmediate(() => events.push("turn"));
    };
    const app = { format: 1, name: "a", version: "2.0.0", applications: [], env: {}, modules: [] } as never as AppFile;
    await execute(script, { port, target: { dir: "/virtual", apps: [app] }, progress });
    expect(events).toEqual(["step 0", "turn", "step 1", "step 2"]);
    expect((table.namespace("a/m") as { v: () => number }).v()).toBe(2);
  });
});
