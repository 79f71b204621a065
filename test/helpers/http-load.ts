/**
 * Load on a live node for upgrade tests: N loops of real HTTP GETs to one path on the loopback, each loop
 * sending its next request when the previous one is answered (no timers, no sleeps), each request on a
 * new TCP connection so that a refused or reset connection shows. A request fails when it errs, times
 * out, answers a status other than 200, or answers a body `accepts` refuses. Loads still running after a
 * test are stopped.
 */
import http from "node:http";
import { afterEach } from "vitest";

export interface LoadCounts {
  answered: number;
  failed: number;
  /** the first failures, as text (status and body, or the error) */
  failures: string[];
}

export interface HttpLoad {
  /** the counts so far */
  counts(): LoadCounts;
  /** resolves once `more` further requests have been answered (rejects if the load is stopped first) */
  answers(more: number): Promise<void>;
  /** stops every loop after its request in flight, and resolves with the final counts */
  stop(): Promise<LoadCounts>;
}

export interface LoadOptions {
  port: number;
  path: string;
  /** how many loops run at once (default 4) */
  concurrency?: number;
  /** which answer bodies (trimmed) are right; default any */
  accepts?: (body: string) => boolean;
  /** per request (default 10 000 ms) */
  timeoutMs?: number;
}

const KEPT_FAILURES = 20;

export function useHttpLoad() {
  const running: HttpLoad[] = [];
  afterEach(async () => {
    for (const load of running.splice(0)) await load.stop();
  });
  return (options: LoadOptions): HttpLoad => {
    const load = startHttpLoad(options);
    running.push(load);
    return load;
  };
}

export function startHttpLoad(options: LoadOptions): HttpLoad {
  const counts: LoadCounts = { answered: 0, failed: 0, failures: [] };
  const waiters: { at: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  let stopped = false;

  const fail = (what: string) => {
    counts.failed++;
    if (counts.failures.length < KEPT_FAILURES) counts.failures.push(what);
  };
  const answered = () => {
    counts.answered++;
    for (const w of waiters.filter((w) => counts.answered >= w.at)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };

  const loop = async () => {
    while (!stopped) {
      try {
        const { status, body } = await request(options.port, options.path, options.timeoutMs ?? 10_000);
        if (status !== 200) fail(`${status} ${body}`);
        else if (options.accepts && !options.accepts(body)) fail(`unexpected answer ${JSON.stringify(body)}`);
        else answered();
      } catch (error) {
        const e = error as Error & { code?: string };
        fail(e.code ? `${e.code}: ${e.message}` : e.message);
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 4 }, loop);

  return {
    counts: () => ({ ...counts, failures: [...counts.failures] }),
    answers: (more) => {
      if (stopped) return Promise.reject(new Error("the load is stopped"));
      return new Promise((resolve, reject) => waiters.push({ at: counts.answered + more, resolve, reject }));
    },
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      for (const w of waiters.splice(0)) w.reject(new Error(`the load stopped after ${counts.answered} answers`));
      return { ...counts, failures: [...counts.failures] };
    },
  };
}

/** One GET on a new connection: the status and the trimmed body. */
function request(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
