/**
 * The node's release reader thread (release-reader.ts): runs each job it is sent, one at a time, and
 * answers `{id, value}` or `{id, error}`, the error as data (reader-error.ts). It holds no state between
 * jobs and touches nothing of the node's: it reads releases and writes only where a job says (`into`).
 */
import { parentPort } from "node:worker_threads";
import { prepareRelease, readTarget, type PrepareJob } from "./prepare-release.ts";
import { toReaderError } from "./reader-error.ts";

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
      reply = { id, error: toReaderError(error) };
    }
    parentPort!.postMessage(reply);
  });
});
