// The release reader's worker thread: it runs relup's TypeScript sources through tsx, as the node does.
// Its priority is lowered first (see release-reader-worker.ts), so that tsx's own thread inherits it.
import os from "node:os";
import { register } from "tsx/esm/api";

if (process.platform === "linux") {
  try {
    os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // the thread keeps the node's priority
  }
}
register();
await import("./release-reader-worker.ts");
