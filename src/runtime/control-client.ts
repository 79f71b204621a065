/** Send one request to a node's control socket and read its response. */
import net from "node:net";
import path from "node:path";
import { assertRootTrusted } from "./root-trust.ts";
import { CONTROL_SOCKET, ControlAnswer, MAX_REQUEST_BYTES, type ControlRequest, type ControlResult } from "./control-protocol.ts";
import { RuntimeError } from "./issues/runtime-error.ts";

export function controlSocketPath(root: string): string {
  return path.join(root, "run", CONTROL_SOCKET);
}

/**
 * The connection to the node closed (or broke) before the answer came: the node died or was killed while
 * it handled the request. What became of the request is not known from here.
 */
export class NodeLost extends RuntimeError {
  override readonly name = "NodeLost";
  constructor(root: string, cmd: string, cause: string) {
    super({ kind: "node-lost", root, cmd, cause });
  }
}

/** Requests that may run long: the node keeps the connection alive with keepalive lines while it works. */
const LONG_REQUESTS: ReadonlySet<ControlRequest["cmd"]> = new Set(["unpack", "check", "install", "rollback"]);

/**
 * The silence a long request tolerates by default: longer than the launcher's default watchdog (30 s),
 * so that a node whose event loop is stuck is killed by its launcher first and reported as lost.
 */
export const DEFAULT_SILENCE_MS = 60_000;
/** A short request's whole time. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

export interface RequestOptions {
  /**
   * For a short request, how long the whole request may take (default 10 minutes). For a long one
   * (unpack, check, install, rollback), how long the node may stay silent (default DEFAULT_SILENCE_MS):
   * it writes a keepalive line four times within it while it works, and every line (progress too)
   * starts the count again, so an install takes as long as the timeouts the user gave allow.
   */
  timeout?: number;
  onProgress?: (event: unknown) => void;
}

/**
 * Send `request`; resolves with the node's answer to it (typed per command: ControlResult), or throws a
 * RuntimeError carrying the issue: the node's (parsed as input, see ControlAnswer), or the client's own
 * (no node, the node lost, no answer, a request too large to send).
 */
export async function controlRequest<R extends ControlRequest>(root: string, request: R, options: RequestOptions = {}): Promise<ControlResult<R>> {
  const long = LONG_REQUESTS.has(request.cmd);
  const timeout = options.timeout ?? (long ? DEFAULT_SILENCE_MS : DEFAULT_REQUEST_TIMEOUT_MS);
  const sent = long ? { ...request, keepalive: Math.min(60_000, Math.max(10, Math.floor(timeout / 4))) } : request;
  const line = JSON.stringify(sent);
  const bytes = Buffer.byteLength(line) + 1;
  if (bytes > MAX_REQUEST_BYTES) {
    const what = `the ${request.cmd} request${"plan" in request ? ` (version ${request.version}, a plan of ${request.plan.up.length + request.plan.down.length} steps)` : ""}`;
    throw new RuntimeError({ kind: "request-too-large", request: what, bytes }, root);
  }
  // A run/ another user can write could hold their socket, answering for the node.
  assertRootTrusted(root);
  const response = await rawRequest(controlSocketPath(root), line, timeout, options.onProgress, { silence: long }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ECONNREFUSED") throw new RuntimeError({ kind: "no-node", root, socket: controlSocketPath(root) });
    if (error.code === "ECONNRESET" || error.code === "EPIPE") throw new NodeLost(root, request.cmd, error.message);
    throw new RuntimeError({ kind: "no-answer", root, cmd: request.cmd, cause: error.message });
  });
  const answer = parseAnswer(response);
  if (!answer.success) throw new RuntimeError({ kind: "bad-answer", root, cmd: request.cmd, detail: answer.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(answer)"}: ${i.message}`).join("; ") });
  if (!answer.data.ok) throw new RuntimeError(answer.data.issue, "node");
  // The protocol's contract: the node answers each command with its ControlResults entry (node-main.ts).
  return answer.data.result as ControlResult<R>;
}

function parseAnswer(line: string): ReturnType<typeof ControlAnswer.safeParse> {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    data = line;
  }
  return ControlAnswer.safeParse(data);
}

/**
 * One line out, one answer back; progress lines before the answer go to `onProgress`, keepalive lines
 * are read and dropped. `timeout` bounds the whole request, or with `silence` the time between two lines.
 */
export function rawRequest(socketPath: string, line: string, timeout = 30_000, onProgress?: (event: unknown) => void, options: { silence?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = "";
    let done = false;
    const expire = () => {
      socket.destroy();
      const what = options.silence ? `no word from ${socketPath} for ${timeout} ms` : `no answer from ${socketPath} within ${timeout} ms`;
      reject(Object.assign(new Error(what), { code: "ETIMEDOUT" }));
    };
    let timer = setTimeout(expire, timeout);
    socket.on("connect", () => socket.write(line + "\n"));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const answer = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const parsed = parseLine(answer);
        if (parsed && !("ok" in parsed) && ("progress" in parsed || "keepalive" in parsed)) {
          if (options.silence) {
            clearTimeout(timer);
            timer = setTimeout(expire, timeout);
          }
          if ("progress" in parsed) onProgress?.(parsed.progress);
          continue;
        }
        clearTimeout(timer);
        socket.end();
        done = true;
        resolve(answer);
        return;
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (!done) reject(Object.assign(new Error("the node closed the connection without answering"), { code: "ECONNRESET" }));
    });
  });
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
