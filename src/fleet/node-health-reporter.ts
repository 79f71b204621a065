/**
 * The node's health in its node record (node-health.ts), published by the agent every refresh: the
 * node's `health` control request (crashes, supervisor restarts and failed calls since it booted, the
 * event loop's delay since the previous read) and, while the group's rollout names a health path
 * (`relup fleet rollout --health-path /healthz`), the node's answers to a GET of that path on each port
 * it listens on (the `status` request's `listening`), counted ok (2xx) or failed since the agent started
 * checking that path for that rollout: the counts start again with each rollout (tagged with its id), so
 * that an old rollout's failures never count against a new one. The rollout's soak compares these with
 * the node's baseline.
 *
 * A node that does not answer (busy with an install, restarting) is read again at the next refresh. The
 * record keeps the node's status as it is when the health is written (the agent's own reports decide it).
 */
import { controlRequest } from "../runtime/control-client.ts";
import type { FleetMember } from "./fleet-member.ts";
import type { NodeHealth } from "./node-health.ts";

export const HTTP_CHECK_TIMEOUT_MS = 2_000;

export interface HealthReporterOptions {
  root: string;
  member: FleetMember;
  log: (event: string, fields: Record<string, unknown>) => void;
}

type HttpCounts = NonNullable<NodeHealth["http"]>;

export class NodeHealthReporter {
  #options: HealthReporterOptions;
  #http: HttpCounts | undefined;
  #reading = false;

  constructor(options: HealthReporterOptions) {
    this.#options = options;
  }

  /** Read the node's health (and GET `healthPath` on its ports) and write it into the record; never throws. */
  async refresh(healthPath: string | undefined, rolloutId?: string): Promise<void> {
    const { member, root } = this.#options;
    // One read at a time: a slow node is not asked again before it answered.
    if (this.#reading || !["running", "failed"].includes(member.record.status)) return;
    this.#reading = true;
    try {
      const health = await controlRequest(root, { cmd: "health" }, { timeout: 5_000 });
      const http = healthPath !== undefined ? await this.#check(healthPath, rolloutId) : undefined;
      member.report(member.record.status, { health: { at: new Date().toISOString(), ...health, ...(http ? { http } : {}) } });
    } catch {
      // The node is busy or restarting: the launcher's events say so; the next refresh reads again.
    } finally {
      this.#reading = false;
    }
  }

  async #check(given: string, rollout: string | undefined): Promise<HttpCounts> {
    const path = given.startsWith("/") ? given : `/${given}`;
    if (this.#http?.path !== path || this.#http.rollout !== rollout) this.#http = { path, ...(rollout !== undefined ? { rollout } : {}), ok: 0, failed: 0, last: "not checked yet" };
    const counts = this.#http;
    const { listening } = await controlRequest(this.#options.root, { cmd: "status" }, { timeout: 5_000 });
    if (listening.length === 0) {
      counts.failed++;
      counts.last = counts.lastFailure = `the node listens on no TCP port to GET ${path} on`;
      return { ...counts };
    }
    for (const port of listening) {
      const answer = await getStatus(port, path);
      if (typeof answer === "number" && answer >= 200 && answer < 300) counts.ok++;
      else {
        counts.failed++;
        if (counts.last !== `port ${port}: ${describe(answer)}`) this.#options.log("fleet health check failed", { url: `http://127.0.0.1:${port}${path}`, answer: describe(answer) });
        counts.lastFailure = `port ${port}: ${describe(answer)}`;
      }
      counts.last = `port ${port}: ${describe(answer)}`;
    }
    return { ...counts };
  }
}

/** The HTTP status of a GET, or why there was none. */
async function getStatus(port: number, path: string): Promise<number | Error> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(HTTP_CHECK_TIMEOUT_MS), redirect: "manual" });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return error as Error;
  }
}

function describe(answer: number | Error): string {
  if (typeof answer === "number") return `HTTP ${answer}`;
  const cause = (answer as Error & { cause?: { code?: string } }).cause?.code;
  return answer.name === "TimeoutError" ? `no answer within ${HTTP_CHECK_TIMEOUT_MS} ms` : `no answer (${cause ?? answer.message})`;
}
