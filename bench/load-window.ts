/**
 * One window of HTTP load on the loopback interface: autocannon, 10 connections (keep-alive), for a given
 * number of seconds; when there is an action, it starts a third of the way in and its time is kept.
 * Failed = errors (timeouts among them) + non-2xx answers, with a count per kind of failure. Used by
 * the HTTP figures and the pm2 side-by-side.
 */
import autocannon from "autocannon";

export interface Window {
  requests: number;
  /** errors (timeouts among them) + non-2xx answers */
  failed: number;
  p99: number;
  max: number;
  actionMs?: number;
  /** the failures by kind: an error's code (or message: "request timed out"), or "non-2xx"; absent when none failed */
  failures?: Record<string, number>;
}

export interface LoadOptions {
  port: number;
  seconds: number;
  /** default `/calculate/2/2` */
  path?: string;
  /** default 10 */
  connections?: number;
  /** seconds before a request counts as timed out (autocannon's default: 10) */
  timeout?: number;
}

export async function loadWindow(options: LoadOptions, during?: () => Promise<void>): Promise<Window> {
  const { port, seconds, path = "/calculate/2/2", connections = 10, timeout = 10 } = options;
  const failures: Record<string, number> = {};
  const running = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ url: `http://127.0.0.1:${port}${path}`, connections, duration: seconds, timeout }, (error, result) => (error ? reject(error) : resolve(result)));
    instance.on("reqError", (error: Error & { code?: string }) => {
      const kind = error.code ?? error.message;
      failures[kind] = (failures[kind] ?? 0) + 1;
    });
  });
  let actionMs: number | undefined;
  if (during) {
    await new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / 3));
    const started = performance.now();
    await during();
    actionMs = performance.now() - started;
  }
  const r = await running;
  if (r.non2xx > 0) failures["non-2xx"] = r.non2xx;
  // autocannon counts a timeout both in `errors` and in `timeouts`
  return {
    requests: r.requests.total,
    failed: r.errors + r.non2xx,
    p99: r.latency.p99,
    max: r.latency.max,
    ...(actionMs !== undefined ? { actionMs } : {}),
    ...(Object.keys(failures).length > 0 ? { failures } : {}),
  };
}

/**
 * Load until `requests` requests have been answered (10 connections), unmeasured: new processes answer
 * their first thousands of requests slower (compilation, and in pm2's workers more: bench/README.md).
 */
export async function warmUp(port: number, requests: number, path = "/calculate/2/2"): Promise<void> {
  await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 10, amount: requests });
}
