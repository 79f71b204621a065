/**
 * How long until every answer comes from the new version: polls of an endpoint whose answer changes
 * between the versions, each on a new TCP connection (so that a server that balances connections
 * between workers hands each poll to a worker in turn, and a refused, reset or lost connection shows),
 * in two loops of one request at a time (so that one request left unanswered does not stop the polling),
 * from the start of the action until the action is done and the last `stable` polls sent are all new.
 */
import { getOnNewConnection } from "../src/net-helpers.ts";

/** One poll: when it was sent and answered (ms after the action started), and the answer, or why it failed. */
export interface Sample {
  sentMs: number;
  atMs: number;
  answer: string | undefined;
  error?: string;
}

export interface Settled {
  /**
   * ms after the action started at which the first poll was answered of those sent after the last poll
   * that was not answered by the new version; undefined if the polls never settled
   */
  settledMs: number | undefined;
  polls: number;
  /** answers from the old version (or anything else that is not new) */
  old: number;
  /** polls that failed (refused, reset, timed out) */
  failed: number;
  /** the first failures: when the poll was sent and what happened */
  failures: string[];
}

const KEPT_FAILURES = 5;

/** Reads the samples in the order they were sent: the time from which every answer is new, and what came before. */
export function settle(samples: readonly Sample[], isNew: (answer: string) => boolean): Settled {
  const sent = [...samples].sort((a, b) => a.sentMs - b.sentMs);
  const isNewSample = (s: Sample) => s.answer !== undefined && isNew(s.answer);
  let lastNotNew = -1;
  sent.forEach((s, i) => {
    if (!isNewSample(s)) lastNotNew = i;
  });
  const failed = sent.filter((s) => s.answer === undefined);
  return {
    settledMs: sent[lastNotNew + 1]?.atMs,
    polls: sent.length,
    old: sent.filter((s) => s.answer !== undefined && !isNew(s.answer)).length,
    failed: failed.length,
    failures: failed.slice(0, KEPT_FAILURES).map((s) => `sent at ${Math.round(s.sentMs)} ms: ${s.error ?? "failed"}`),
  };
}

export interface PollOptions {
  port: number;
  path: string;
  isNew: (answer: string) => boolean;
  /** performance.now() when the action started */
  since: number;
  /** the action; polling goes on at least until it settles */
  action: Promise<unknown>;
  /** how many new answers in a row (in the order sent), after the action, end the polling (default 20) */
  stable?: number;
  /** give up this long after the action started (default 30 s) */
  timeoutMs?: number;
}

export async function pollNewVersion(options: PollOptions): Promise<Settled> {
  const { port, path, isNew, since, stable = 20, timeoutMs = 30_000 } = options;
  let actionDone = false;
  options.action.then(
    () => (actionDone = true),
    () => (actionDone = true),
  );
  const samples: Sample[] = [];
  const newAtTheEnd = () => {
    const sent = [...samples].sort((a, b) => a.sentMs - b.sentMs);
    let n = 0;
    for (let i = sent.length - 1; i >= 0 && sent[i]!.answer !== undefined && isNew(sent[i]!.answer!); i--) n++;
    return n;
  };
  const done = () => (actionDone && newAtTheEnd() >= stable) || performance.now() - since >= timeoutMs;
  const loop = async () => {
    while (!done()) {
      const sentMs = performance.now() - since;
      try {
        const answer = await getOnNewConnection(port, path, 5_000);
        samples.push({ sentMs, atMs: performance.now() - since, answer });
      } catch (error) {
        const e = error as Error & { code?: string };
        samples.push({ sentMs, atMs: performance.now() - since, answer: undefined, error: e.code ? `${e.code}: ${e.message}` : e.message });
      }
    }
  };
  await Promise.all([loop(), loop()]);
  const result = settle(samples, isNew);
  return newAtTheEnd() >= stable ? result : { ...result, settledMs: undefined };
}
