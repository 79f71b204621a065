/**
 * Why a node failed to boot, as data the launcher can act on: the message, and when the cause is an
 * address the node could not listen on (taken by another process, or not allowed), which one and for
 * which application. `relup start` reports that as bad input naming the port, not as a crash.
 */
import { ExitCode, UserError } from "../errors.ts";
import { ReleaseError } from "../release/issues.ts";
import { ApplicationStartError } from "./application-controller.ts";

export interface ListenFailure {
  /** EADDRINUSE: another process listens there; EACCES: a port this user may not bind */
  code: "EADDRINUSE" | "EACCES";
  port: number;
  address?: string;
  application?: string;
}

export interface BootFailure {
  error: string;
  listen?: ListenFailure;
  /** the cause is a file the operator gave (the root's config.json): bad input, not a crash */
  badInput?: boolean;
  /** the release does not verify (its files changed on disk): no restart can boot it */
  damaged?: boolean;
}

export function bootFailure(error: unknown): BootFailure {
  const message = error instanceof Error ? error.message : String(error);
  let application: string | undefined;
  // Follow the causes: the application controller wraps what the application's start threw.
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ApplicationStartError) application = e.application;
    const { code, port, address, syscall } = e as NodeJS.ErrnoException & { port?: number; address?: string };
    if (syscall === "listen" && (code === "EADDRINUSE" || code === "EACCES") && typeof port === "number") {
      return { error: message, listen: { code, port, ...(address ? { address } : {}), ...(application ? { application } : {}) } };
    }
  }
  if (error instanceof ReleaseError) return { error: message, badInput: true, damaged: true };
  return { error: message };
}

/** The user's words for a listen failure: what happened, and the fix. */
export function formatListenFailure(f: ListenFailure, root: string): string {
  const who = f.application ? `application ${f.application}` : "the node";
  const where = f.address ? `${f.address}:${f.port}` : `port ${f.port}`;
  const configure = `configure ${f.application ?? "the application"} to listen on another port (env overrides go in ${root}/config.json)`;
  return f.code === "EADDRINUSE"
    ? `${who} cannot listen on ${where}: the address is already in use by another process. Fix: stop what listens there (\`ss -ltnp 'sport = :${f.port}'\` shows it), or ${configure}.`
    : `${who} cannot listen on ${where}: this user may not bind that port. Fix: ${configure}, above 1023, or allow it (CAP_NET_BIND_SERVICE).`;
}

/**
 * The first node did not boot. An address it could not listen on is bad input (exit 2: another process
 * has the port, or the config names one this user may not bind); any other reason is a failed start (1).
 */
export class BootError extends UserError {
  override readonly name = "BootError";
  constructor(
    readonly failure: BootFailure,
    root: string,
  ) {
    super(failure.listen ? formatListenFailure(failure.listen, root) : `the node failed to boot: ${failure.error}`, failure.listen || failure.badInput ? ExitCode.badInput : ExitCode.checkFailed);
  }
}
