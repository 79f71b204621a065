/**
 * A phase of the translation: the purges of modules that leave the release move to one `purge`, the last
 * step of the script.
 *
 * Why: a purge kills the processes still running a removed module (or, with soft_purge, refuses), and a
 * killed process's state cannot be brought back by a rollback. The executor runs a script's trailing
 * purges after its commit (which tells applications of env changes, and can fail): once every step that
 * can fail (a suspend that times out, a codeChange that throws, a module that fails to load, an apply, a
 * configChange) has succeeded, nothing can undo the install any more, so the kill is final only when the
 * install is. Until the purge, those
 * processes keep running the old code, as in OTP. A purge of a module that is loaded again later in the
 * script (restart_application) stays where it is: the load needs the old code gone first.
 */
import type { Instruction } from "./instruction.ts";

export function purgesLast(script: readonly Instruction[]): Instruction[] {
  const out: Instruction[] = [];
  const last: string[] = [];
  script.forEach((i, n) => {
    if (i.op !== "purge") return void out.push(i);
    const loadedLater = new Set(script.slice(n + 1).flatMap((j) => (j.op === "load" ? [j.module] : [])));
    const stay = i.modules.filter((m) => loadedLater.has(m));
    for (const m of i.modules) if (!loadedLater.has(m) && !last.includes(m)) last.push(m);
    if (stay.length > 0) out.push({ op: "purge", modules: stay });
  });
  if (last.length > 0) out.push({ op: "purge", modules: last });
  return out;
}
