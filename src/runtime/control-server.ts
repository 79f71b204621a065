/**
 * The node's control socket: a Unix domain socket at ROOT/run/control.sock, mode 0600 in a 0700
 * directory, so that only the node's user can reach it. Requests are handled one line at a time per
 * connection; a line longer than MAX_REQUEST_BYTES closes that connection; nothing here evaluates code.
 * A connection is read only while its answers drain (backpressure), and one that stays idle, with no
 * request running, for idleTimeoutMs is closed.
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../release/json-depth.ts";
import { CONTROL_SOCKET, ControlRequest, MAX_REQUEST_BYTES, type ControlKeepalive, type ControlResponse } from "./control-protocol.ts";
import { toRuntimeIssue } from "./issues/runtime-error.ts";

export type ControlHandler = (request: ControlRequest, progress: (event: unknown) => void) => Promise<unknown>;

export interface ControlServer {
  path: string;
  close(): Promise<void>;
  /** Stop accepting connections and free the path (for a successor node), keeping open connections. */
  pause(): Promise<void>;
  /** Listen on the path again (a handover that failed). */
  resume(): Promise<void>;
  /** What the node holds for each open connection (for `metrics`, and tests of backpressure). */
  stats(): ConnectionStats[];
}

export interface ConnectionStats {
  /** requests read from the connection and not yet answered: at most the one running */
  pendingRequests: number;
  /** bytes read from the connection and not yet parsed into a request */
  unreadBytes: number;
  /** answer bytes written and not yet taken by the kernel */
  writableLength: number;
  /** whether the node reads more from the connection */
  reading: boolean;
}

/** How long a control connection with no request running may stay silent before the node closes it. */
export const DEFAULT_CONTROL_IDLE_MS = 60_000;

export async function openControlServer(root: string, handle: ControlHandler, options: { idleTimeoutMs?: number } = {}): Promise<ControlServer> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_CONTROL_IDLE_MS;
  const runDir = path.join(root, "run");
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await chmod(runDir, 0o700);
  const socketPath = path.join(runDir, CONTROL_SOCKET);
  const connections = new Map<net.Socket, () => ConnectionStats>();
  const server = net.createServer((socket) => {
    socket.on("close", () => connections.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffer = "";
    /** the request running (requests of one connection run one at a time, in order) */
    let running = false;
    // Backpressure: the node takes the next line only when the request before it is answered and the
    // answers written so far have been taken by the kernel (below the socket's high-water mark); until
    // then it stops reading, so a client that pipelines without reading fills its own buffers, not the
    // node's. What the node holds per connection: one request, one chunk, one answer over the mark.
    const drained = () => socket.writableLength < socket.writableHighWaterMark;
    const next = () => {
      if (socket.destroyed) return;
      while (!running && drained()) {
        const newline = buffer.indexOf("\n");
        if (newline === -1) break;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim() === "") continue;
        // A long line can arrive whole, newline included: it is refused all the same, after the answers before it.
        if (line.length > MAX_REQUEST_BYTES) {
          refuseTooLarge(socket);
          buffer = "";
          return;
        }
        running = true;
        void respond(socket, line, handle).finally(() => {
          running = false;
          next();
        });
      }
      if (!running && drained() && !buffer.includes("\n")) socket.resume();
      else socket.pause();
      idle();
    };
    socket.on("drain", next);
    // Idle: no request running and no bytes either way for idleTimeoutMs. A long request (an install)
    // keeps its connection however long it runs; the timer starts again when it is answered.
    const idle = () => socket.setTimeout(running ? 0 : idleTimeoutMs);
    socket.on("timeout", () => {
      if (!running) socket.destroy();
    });
    connections.set(socket, () => ({ pendingRequests: running ? 1 : 0, unreadBytes: buffer.length, writableLength: socket.writableLength, reading: !socket.isPaused() }));
    idle();
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      if (buffer.length > MAX_REQUEST_BYTES && !buffer.includes("\n")) {
        refuseTooLarge(socket);
        buffer = "";
        return;
      }
      next();
    });
  });
  const listen = async () => {
    await rm(socketPath, { force: true });
    // The socket file is created by listen: a umask makes it 0600 from the first instant.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    await chmod(socketPath, 0o600);
  };
  await listen();
  let listening = true;
  // Closing the listener frees the path at once; the close callback would wait for open connections.
  const stopListening = async () => {
    if (!listening) return;
    listening = false;
    server.close();
  };
  return {
    path: socketPath,
    close: async () => {
      for (const socket of connections.keys()) socket.end();
      await stopListening();
    },
    pause: stopListening,
    stats: () => [...connections.values()].map((stats) => stats()),
    resume: async () => {
      if (listening) return;
      await listen();
      listening = true;
    },
  };
}

/** The line is longer than the limit: say so (and what to do), and close the connection. */
function refuseTooLarge(socket: net.Socket): void {
  write(socket, { ok: false, issue: { kind: "request-too-large", request: "the request" } });
  socket.end();
}

/** A request wraps a plan in two levels (the request, its `plan`): every plan file relup reads fits. */
const REQUEST_DEPTH = MAX_JSON_DEPTH + 2;

/** Every request gets an answer, and none leaves a rejected promise behind. */
async function respond(socket: net.Socket, line: string, handle: ControlHandler): Promise<void> {
  try {
    await answer(socket, line, handle);
  } catch (error) {
    write(socket, { ok: false, issue: { kind: "node-failed", message: `the node could not handle the request: ${error instanceof Error ? error.message : String(error)}` } });
  }
}

async function answer(socket: net.Socket, line: string, handle: ControlHandler): Promise<void> {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return write(socket, { ok: false, issue: { kind: "bad-json" } });
  }
  const id = typeof data === "object" && data !== null && "id" in data ? (data as { id: unknown }).id : undefined;
  const echo = typeof id === "string" || typeof id === "number" ? { id } : {};
  // Before the schema, which recurses once per level: some thousands of levels overflow the stack.
  const deep = jsonTooDeep(data, REQUEST_DEPTH);
  if (deep) return write(socket, { ...echo, ok: false, issue: { kind: "request-too-deep", at: deepAt(deep), limit: REQUEST_DEPTH, planLimit: MAX_JSON_DEPTH } });
  const parsed = ControlRequest.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(request)", message: i.message }));
    return write(socket, { ...echo, ok: false, issue: { kind: "bad-request", problems } });
  }
  const send = (line: object) => {
    if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(line) + "\n");
  };
  // Written from the event loop while the request runs: the client sees a node that is alive and at work,
  // however long the request takes (a blocked event loop writes none).
  const every = "keepalive" in parsed.data ? parsed.data.keepalive : undefined;
  const keepalive = every !== undefined ? setInterval(() => send({ ...echo, keepalive: true } satisfies ControlKeepalive), every) : undefined;
  // Also when the client goes away first (a request queued behind a hung install): no one reads them then.
  const stopKeepalive = () => clearInterval(keepalive);
  if (keepalive) socket.once("close", stopKeepalive);
  try {
    const progress = (event: unknown) => send({ ...echo, progress: event });
    const result = await handle(parsed.data, progress);
    clearInterval(keepalive);
    write(socket, { ...echo, ok: true, result });
  } catch (error) {
    clearInterval(keepalive);
    write(socket, { ...echo, ok: false, issue: toRuntimeIssue(error) });
  } finally {
    socket.off("close", stopKeepalive);
  }
}

function write(socket: net.Socket, response: ControlResponse): void {
  if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(response) + "\n");
}

/** `plan.up.3.modules.0.extra.a.a … (64 levels down)`, as the schema's issues name a field. */
function deepAt(path: PropertyKey[]): string {
  return path.slice(0, 8).map(String).join(".") + (path.length > 8 ? ` … (${path.length} levels down)` : "");
}
