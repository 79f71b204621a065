/**
 * Listening sockets that survive a node restart (restart_new_emulator). In a node process, every TCP
 * server that listens on a port is recorded, so that its handle can be handed to the next node; and a
 * node started to take over listens on the handed handles instead of binding again, so that clients
 * never see a refused connection. This wraps `net.Server.prototype.listen` in node processes only.
 */
import net from "node:net";

const listening = new Map<number, net.Server>();
/** native handles handed over by the previous node, by port; nothing accepts on them until listen */
const inherited = new Map<number, unknown>();

export function recordListeners(): void {
  const original = net.Server.prototype.listen;
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
    const port = portOf(args[0]);
    if (port !== undefined && inherited.has(port)) {
      const handle = inherited.get(port)!;
      inherited.delete(port);
      const callback = args.find((a) => typeof a === "function") as (() => void) | undefined;
      this.once("listening", () => listening.set(port, this));
      this.once("close", () => forget(this));
      return original.call(this, { _handle: handle } as never, callback) as net.Server;
    }
    this.once("listening", () => {
      const address = this.address();
      if (address && typeof address === "object") listening.set(address.port, this);
    });
    this.once("close", () => forget(this));
    return (original as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof net.Server.prototype.listen;
}

function forget(server: net.Server): void {
  for (const [p, s] of listening) if (s === server) listening.delete(p);
}

/** The servers listening now, by port: what a restart hands over. */
export function listeningServers(): Map<number, net.Server> {
  return new Map(listening);
}

/**
 * After a handover: this node stops accepting on `server` (the successor accepts on its own copy of the
 * listening socket, which stays open), and its open connections go on. Resolves once they are all closed.
 * The server is closed here, before the code that owns it stops: a later `server.close(cb)` of that code
 * (a terminate) gets its callback once the server is closed, as if its own close had done it, rather
 * than ERR_SERVER_NOT_RUNNING.
 */
export function stopAccepting(server: net.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  const done = new Promise<void>((resolve) => server.once("close", () => resolve()));
  server.close();
  server.close = function close(this: net.Server, callback?: (error?: Error) => void) {
    if (callback) void done.then(() => callback());
    return this;
  };
  return done;
}

/** A native handle handed over by the previous node, used by the next listen on that port. */
export function inheritHandle(port: number, handle: unknown): void {
  inherited.set(port, handle);
}

/** The native handle of a listening server, to send to another process without it accepting there. */
export function nativeHandle(server: net.Server): unknown {
  return (server as unknown as { _handle: unknown })._handle;
}

function portOf(arg: unknown): number | undefined {
  if (typeof arg === "number") return arg;
  if (typeof arg === "string" && /^\d+$/.test(arg)) return Number(arg);
  if (arg && typeof arg === "object" && "port" in arg) return Number((arg as { port: unknown }).port);
  return undefined;
}
