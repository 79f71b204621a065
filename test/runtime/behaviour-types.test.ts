/**
 * The behaviours' types (src/runtime/behaviours.ts) as a user's editor sees them: modules written
 * against `relup/runtime`, type-checked by the TypeScript compiler. A module that keeps the contract
 * compiles; a wrong `handleCall`, `init`, supervisor spec or application `start` is an error on its line.
 * (test/package-install.test.ts checks the same through the installed package's own .d.ts files.)
 */
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const PUBLIC = path.join(import.meta.dirname, "..", "..", "src", "runtime", "public.ts");

/**
 * Type-check modules importing `relup/runtime`, all in one program (one compile of zod and @types/node):
 * each module's errors as `line: message`.
 */
function typeErrors(sources: Record<string, string>): Record<string, string[]> {
  const files = new Map(Object.entries(sources).map(([name, text]) => [path.join(import.meta.dirname, `__${name}__.ts`), text]));
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    types: ["node"],
    // Only this test maps the specifier to the sources; a user gets it from the package's exports.
    paths: { "relup/runtime": [PUBLIC] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.getSourceFile = (name, version, onError, create) => {
    const text = files.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, onError, create);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return Object.fromEntries(
    [...files.keys()].map((file, i) => [
      Object.keys(sources)[i]!,
      diagnostics.filter((d) => d.file?.fileName === file).map((d) => `${d.file!.getLineAndCharacterOfPosition(d.start!).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`),
    ]),
  );
}

const COUNTER = `import { defineServer, z, type From } from "relup/runtime";
export const behaviour = "server";
export const vsn = 2;
export const stateSchema = z.object({ count: z.int() });
type State = z.infer<typeof stateSchema>;
type Request = { op: "get" } | { op: "add"; by: number };
interface StateV1 { n: number }
export const { init, handleCall, handleCast, codeChange } = defineServer<State, Request, number, "reset">({
  init: () => ({ count: 0 }),
  handleCall: (request, _from: From, state) => (request.op === "get" ? { reply: state.count, state } : { reply: state.count + request.by, state: { count: state.count + request.by } }),
  handleCast: (_msg, _state) => ({ count: 0 }),
  codeChange(oldVsn, state: State | StateV1) {
    return oldVsn === 1 ? { count: (state as StateV1).n } : { n: (state as State).count };
  },
});
`;

const SUPERVISOR = `import { defineSupervisor } from "relup/runtime";
export const behaviour = "supervisor";
export const { init } = defineSupervisor<{ port: number }>({
  init: (args) => ({ strategy: "one_for_all", children: [{ id: "web", module: "web", args: { port: args.port }, restart: "transient", shutdown: "brutal_kill" }] }),
});`;

const APPLICATION = `import { defineApplication, startSupervisor } from "relup/runtime";
export const behaviour = "application";
interface Env { port: number }
export const { start, configChange } = defineApplication<Env>({
  start: (env) => startSupervisor("sup", { port: env.port }),
  configChange: (changed) => { void changed.port; },
});`;

describe("behaviour types", () => {
  // One program for every case: a type-check of zod and @types/node takes seconds.
  const errors = typeErrors({
    counter: COUNTER,
    supervisor: SUPERVISOR,
    application: APPLICATION,
    wrongRequest: COUNTER.replace("handleCall: (request, _from: From, state) =>", "handleCall: (request: string, _from: From, state) =>"),
    noState: COUNTER.replace(/handleCall: .*\n/, "handleCall: (_request, _from, state) => ({ reply: state.count }),\n"),
    wrongReply: COUNTER.replace(/handleCall: .*\n/, `handleCall: (_request, _from, state) => ({ reply: "many", state }),\n`),
    wrongInit: COUNTER.replace("init: () => ({ count: 0 }),", `init: () => ({ count: "0" }),`),
    unknownCallback: COUNTER.replace("handleCast:", "handleCats:"),
    badStrategy: SUPERVISOR.replace(`"one_for_all"`, `"one_for_none"`),
    undeclaredRequest: COUNTER.replace("defineServer<State, Request, number, \"reset\">", "defineServer<State>").replace("handleCall: (request, _from: From, state) =>", "handleCall: (request: Request, _from: From, state) =>"),
    startNoPid: APPLICATION.replace(`start: (env) => startSupervisor("sup", { port: env.port }),`, "start: (env) => env.port,"),
  });

  it("a server, a supervisor and an application that keep their contract type-check", () => {
    expect(errors.counter).toEqual([]);
    expect(errors.supervisor).toEqual([]);
    expect(errors.application).toEqual([]);
  });

  it("a handleCall with the wrong request type, or that returns no state or another reply, is an error on its line", () => {
    expect(errors.wrongRequest!.join("\n")).toMatch(/^10: .*Type 'Request' is not assignable to type 'string'/);
    expect(errors.noState!.join("\n")).toMatch(/^10: .*'state' is missing/);
    expect(errors.wrongReply!.join("\n")).toMatch(/^10: .*'string' is not assignable to type 'number'/);
    // Undeclared, the request is `unknown`: a handler cannot assume a type for it without saying so.
    expect(errors.undeclaredRequest!.join("\n")).toMatch(/^10: .*Type 'unknown' is not assignable to type 'Request'/);
  });

  it("an init of another state, an unknown callback, a bad supervisor strategy and a start without a pid are errors", () => {
    expect(errors.wrongInit!.join("\n")).toMatch(/^9: .*'string' is not assignable to type 'number'/);
    expect(errors.unknownCallback!.join("\n")).toMatch(/^11: .*'handleCats' does not exist/);
    expect(errors.badStrategy!.join("\n")).toMatch(/^4: .*"one_for_none"/);
    expect(errors.startNoPid!.join("\n")).toMatch(/^5: .*'number' is not assignable to type 'MaybePromise<string>'/);
  });
});
