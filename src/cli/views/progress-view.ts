import type { Progress } from "../../runtime/executor.ts";

/** One line per phase; code_change counts as processes are migrated. */
export function renderProgress(event: Progress): string | undefined {
  switch (event.phase) {
    case "step":
      return `  ${String(event.index + 1).padStart(String(event.total).length)}/${event.total} ${event.op}${event.detail ? ` ${event.detail}` : ""}`;
    case "code_change":
      return `      migrated ${event.done}/${event.total} processes of ${event.module}`;
    case "step-done":
      return undefined;
    case "rollback":
      return `  failed: ${event.cause}; rolling back ${event.steps} changes`;
    case "barrier":
      return event.waits ? `  barrier ${event.barrier.id}: holding for go or abort (at most ${event.barrier.timeoutMs} ms)` : `  barrier ${event.barrier.id}: released at once`;
    case "barrier-decided":
      return `  barrier ${event.id}: ${event.decision} after ${event.waitedMs} ms`;
  }
}
