/**
 * How long until every answer comes from the new version: one client polls an endpoint whose answer
 * changes between the versions, one request at a time, each on a new TCP connection (so that a server
 * that balances connections between workers hands each poll to a worker in turn, and a refused or reset
 * connection shows), from the start of the action until the action is done and the last `stable` answers
 * are all new.
 */
import { getOnNewConnection } from "../src/net-helpers.ts";

/** One poll: when it was answered (ms after the action started) and the answer, or undefined if it failed. */
export interface Sample {
  atMs: number;
  answer: string | undefined;
}

export interface Settled {
  /** ms after the action started of the first new answer after the last one that was not new; undefined if the polls never settled */
  settledMs: number | undefined;
  polls: number;
  /** answers from the old version (or anything else that is not new) */
  old: number;
  /** polls that failed (refused, reset, timed out) */
  failed: number;
}

/** Reads the samples: the time from which every answer is new, and what came before. */
export function settle(samples: readonly Sample[], isNew: (answer: string) => boolean): Settled {
  let lastNotNew = -1;
  samples.forEach((s, i) => {
    if (s.answer === undefined || !isNew(s.answer)) lastNotNew = i;
  });
  const first = samples[lastNotNew + 1];
  return {
    settledMs: first?.atMs,
    polls: samples.length,
    old: samples.filter((s) => s.answer !== undefined && !isNew(s.answer)).length,
    failed: samples.filter((s) => s.answer === undefined).length,
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
  /** how many new answers in a row, after the action, end the polling (default 20) */
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
  const newInARow = () => {
    let n = 0;
    for (let i = samples.length - 1; i >= 0 && samples[i]!.answer !== undefined && isNew(samples[i]!.answer!); i--) n++;
    return n;
  };
  while (!(actionDone && newInARow() >= stable) && performance.now() - since < timeoutMs) {
    let answer: string | undefined;
    try {
      answer = await getOnNewConnection(port, path, 5_000);
    } catch {
      answer = undefined;
    }
    samples.push({ atMs: performance.now() - since, answer });
  }
  const result = settle(samples, isNew);
  return newInARow() >= stable ? result : { ...result, settledMs: undefined };
}
