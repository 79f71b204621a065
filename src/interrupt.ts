/**
 * Temporary paths to remove if the process is interrupted (Ctrl-C, SIGTERM) before it removes them
 * itself, so that an interrupted build or read leaves nothing behind. The CLI entry point calls
 * `removeTemporaryPaths` from its signal handlers.
 */
import { rmSync } from "node:fs";

const paths = new Set<string>();

/** Remember `path` until the returned function is called. */
export function removeOnInterrupt(path: string): () => void {
  paths.add(path);
  return () => paths.delete(path);
}

export function removeTemporaryPaths(): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  paths.clear();
}

let interruptHandler: (() => void) | undefined;

/**
 * A command that owns interruption (a foreground node) says what Ctrl-C does while it runs; the default
 * is to exit. The returned function gives interruption back, once the command is done.
 */
export function onInterrupt(handler: () => void): () => void {
  interruptHandler = handler;
  return () => {
    if (interruptHandler === handler) interruptHandler = undefined;
  };
}

export function interrupt(signal: "SIGINT" | "SIGTERM"): void {
  removeTemporaryPaths();
  if (interruptHandler) interruptHandler();
  else process.exit(signal === "SIGINT" ? 130 : 143);
}
