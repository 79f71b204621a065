/**
 * The node's release reader thread (release-reader.ts): runs each job it is sent, one at a time, and
 * answers `{id, value}` or `{id, error}`, the error as data (reader-error.ts). It holds no state between
 * jobs and touches nothing of the node's: it reads releases and writes only where a job says (`into`).
 *
 * On Linux the thread runs at a lower scheduling priority than the node (nice +10; Linux keeps a nice
 * value per thread), set before its modules load: on a busy machine its start and its jobs take the CPU
 * when the node's event loop and the machine's other processes leave it, instead of delaying them.
 * Elsewhere the call would lower the whole process, so it is not made.
 */
import os from "node:os";
import { parentPort } from "node:worker_threads";
import type { PrepareJob } from "./prepare-release.ts";
import type { toReaderError } from "./reader-error.ts";

if (process.platform === "linux") {
  try {
    os.setPriority(os.constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // the thread keeps the node's priority
  }
}
const { prepareRelease, readTarget } = await import("./prepare-release.ts");
const { toReaderError: asData } = await import("./reader-error.ts");

export type ReaderJob = { kind: "read"; source: string; into?: string } | ({ kind: "prepare" } & PrepareJob);

export interface ReaderRequest {
  id: number;
  job: ReaderJob;
}

export type ReaderReply = { id: number; value: unknown } | { id: number; error: ReturnType<typeof toReaderError> };

function run(job: ReaderJob): Promise<unknown> {
  return job.kind === "read" ? readTarget(job.source, job.into) : prepareRelease(job);
}

let queue: Promise<unknown> = Promise.resolve();
parentPort!.on("message", ({ id, job }: ReaderRequest) => {
  queue = queue.then(async () => {
    let reply: ReaderReply;
    try {
      reply = { id, value: await run(job) };
    } catch (error) {
      reply = { id, error: asData(error) };
    }
    parentPort!.postMessage(reply);
  });
});
