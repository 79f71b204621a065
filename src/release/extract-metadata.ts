/**
 * Module metadata by parsing, never by running user code (ARCHITECTURE §3).
 *
 * Input is the module as plain ES module JavaScript (TypeScript already stripped by esbuild, so
 * type-only imports and exports are gone). Read from the top-level statements only:
 *   `export const behaviour = "server"`   one of server | supervisor | application
 *   `export const vsn = 2` or `= "2.1"`   the state version; a literal, so it can be read without running
 *   exports                               every exported name
 *   mutable state                         top-level `let`/`var` bindings, and `const` bindings created with
 *                                         `new Map|Set|WeakMap|WeakSet|Array|Object(...)`: data held at
 *                                         module level is lost when the module is reloaded
 */
import * as acorn from "acorn";
import type { Behaviour } from "./app-file.ts";

export interface ParsedMetadata {
  behaviour: Behaviour | null;
  vsn: string | number | null;
  exports: string[];
  mutableState: string[];
}

export type MetadataResult = { ok: true; value: ParsedMetadata } | { ok: false; field: string; detail: string };

const BEHAVIOURS: ReadonlySet<string> = new Set(["server", "supervisor", "application"]);
/**
 * Built-in classes whose instances hold no state worth keeping across a reload. Any other `new` at the top
 * level (a Map, a cache, a pool, a client of an npm package) makes module-level state, lost on reload.
 */
const STATELESS_CONSTRUCTORS: ReadonlySet<string> = new Set(["TextEncoder", "TextDecoder", "RegExp", "URL", "Error", "TypeError", "RangeError"]);

export function extractMetadata(esmSource: string): MetadataResult {
  let program: acorn.Program;
  try {
    program = acorn.parse(esmSource, { ecmaVersion: "latest", sourceType: "module" });
  } catch (error) {
    return { ok: false, field: "(source)", detail: `cannot be parsed: ${(error as Error).message}` };
  }
  const exports = new Set<string>();
  /** exported name → local binding, for `export { local as exported }` */
  const locals = new Map<string, string>();
  const mutableState = new Set<string>();
  const constants = new Map<string, acorn.Expression | null>();
  const noteConstants = (decl: acorn.VariableDeclaration) => {
    if (decl.kind !== "const") return;
    for (const d of decl.declarations) if (d.id.type === "Identifier") constants.set(d.id.name, d.init ?? null);
  };

  for (const statement of program.body) {
    if (statement.type === "ExportNamedDeclaration") {
      for (const spec of statement.specifiers) {
        exports.add(exportedName(spec.exported));
        if (!statement.source) locals.set(exportedName(spec.exported), exportedName(spec.local));
      }
      const decl = statement.declaration;
      if (decl?.type === "FunctionDeclaration" || decl?.type === "ClassDeclaration") exports.add(decl.id.name);
      if (decl?.type === "VariableDeclaration") {
        for (const d of decl.declarations) for (const name of patternNames(d.id)) exports.add(name);
        noteConstants(decl);
        noteMutable(decl, mutableState);
      }
    } else if (statement.type === "ExportDefaultDeclaration") {
      exports.add("default");
    } else if (statement.type === "ExportAllDeclaration" && statement.exported) {
      exports.add(exportedName(statement.exported));
    } else if (statement.type === "VariableDeclaration") {
      noteConstants(statement);
      noteMutable(statement, mutableState);
    }
  }

  const behaviour = literalExport(constants, exports, locals, "behaviour");
  if (!behaviour.ok) return behaviour;
  if (behaviour.value !== null && (typeof behaviour.value !== "string" || !BEHAVIOURS.has(behaviour.value))) {
    return {
      ok: false,
      field: "behaviour",
      detail: `is ${JSON.stringify(behaviour.value)}; expected "server", "supervisor" or "application"`,
    };
  }
  const vsn = literalExport(constants, exports, locals, "vsn");
  if (!vsn.ok) return vsn;
  if (typeof vsn.value === "string" && vsn.value.length === 0) {
    return { ok: false, field: "vsn", detail: "is an empty string; expected a non-empty string or a number" };
  }
  return {
    ok: true,
    value: {
      behaviour: behaviour.value as Behaviour | null,
      vsn: vsn.value,
      exports: [...exports].sort(),
      mutableState: [...mutableState].sort(),
    },
  };
}

type LiteralResult = { ok: true; value: string | number | null } | { ok: false; field: string; detail: string };

/** `export const <name> = <string or number literal>` (or a local const exported by name); null when not exported. */
function literalExport(
  constants: Map<string, acorn.Expression | null>,
  exports: Set<string>,
  locals: Map<string, string>,
  name: string,
): LiteralResult {
  if (!exports.has(name)) return { ok: true, value: null };
  const init = constants.get(locals.get(name) ?? name);
  if (init?.type === "Literal" && (typeof init.value === "string" || typeof init.value === "number")) {
    return { ok: true, value: init.value };
  }
  if (init?.type === "TemplateLiteral" && init.expressions.length === 0 && init.quasis[0]) {
    return { ok: true, value: init.quasis[0].value.cooked ?? "" };
  }
  return {
    ok: false,
    field: name,
    detail: `must be declared as \`export const ${name} = <string or number literal>\` so it can be read without running the module`,
  };
}

function noteMutable(decl: acorn.VariableDeclaration, into: Set<string>): void {
  for (const d of decl.declarations) {
    const mutable = decl.kind !== "const" || (d.init?.type === "NewExpression" && !isStateless(d.init.callee));
    if (mutable) for (const name of patternNames(d.id)) into.add(name);
  }
}

/** `new TextEncoder()`, `new Intl.NumberFormat()`: instances that keep nothing a reload could lose. */
function isStateless(callee: acorn.Expression | acorn.Super): boolean {
  if (callee.type === "Identifier") return STATELESS_CONSTRUCTORS.has(callee.name);
  return callee.type === "MemberExpression" && callee.object.type === "Identifier" && callee.object.name === "Intl";
}

function exportedName(node: acorn.Identifier | acorn.Literal): string {
  return node.type === "Identifier" ? node.name : String(node.value);
}

function patternNames(pattern: acorn.Pattern): string[] {
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((p) => (p.type === "RestElement" ? patternNames(p.argument) : patternNames(p.value)));
    case "ArrayPattern":
      return pattern.elements.flatMap((e) => (e ? patternNames(e) : []));
    case "RestElement":
      return patternNames(pattern.argument);
    case "AssignmentPattern":
      return patternNames(pattern.left);
    case "MemberExpression":
      // a target of assignments only; a declaration never binds one
      return [];
  }
}
