// The release reader's thread, held: it blocks until the test stores 1 in `workerData.gate` (an Int32Array
// on a SharedArrayBuffer), then runs as the node's own. Jobs sent meanwhile wait in its message queue.
import { workerData } from "node:worker_threads";

Atomics.wait(workerData.gate, 0, 0);
await import("../../src/runtime/release-reader-worker-entry.mjs");
