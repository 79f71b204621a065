// The release reader's worker thread: it runs relup's TypeScript sources through tsx, as the node does.
import { register } from "tsx/esm/api";

register();
await import("./release-reader-worker.ts");
