/**
 * The fleet's etcd client (the maintained `etcd3` package): every unary call has a deadline, so that a
 * command or a launcher facing an etcd that is down fails with `etcd-unavailable` (issues.ts) instead of
 * waiting; streams (watches, lease keepalives) have none. `withEtcd` runs one piece of work with a
 * client and always closes it (its gRPC channels would otherwise keep the process alive).
 */
import { Etcd3, GRPCGenericError } from "etcd3";
import { FleetError } from "./issues.ts";

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export function connectEtcd(endpoints: readonly string[], callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  });
}

/** Whether an error is etcd's or its client's (gRPC status, a closed client, an open circuit breaker), not ours. */
export function isEtcdFailure(error: unknown): boolean {
  return error instanceof Error && (error instanceof GRPCGenericError || /^(GRPC|Etcd|ClientRuntime|BrokenCircuit|TaskCancelled)/.test(error.constructor.name));
}

/** An error of the etcd3 client as the fleet's issue. */
export function etcdUnavailable(endpoints: readonly string[], error: unknown): FleetError {
  if (error instanceof FleetError) return error;
  const message = ((error as Error).message ?? String(error)).split("\n")[0]!;
  // gRPC appends an empty "Resolution note: " when name resolution had nothing to say.
  const said = message.replace(/\.?\s*Resolution note:\s*$/, "").replace(/Last error: Error: /, "last error: ");
  return new FleetError([{ code: "etcd-unavailable", endpoints: [...endpoints], detail: `no answer (${said})` }]);
}

export async function withEtcd<T>(endpoints: readonly string[], work: (client: Etcd3) => Promise<T>, callTimeoutMs?: number): Promise<T> {
  const client = connectEtcd(endpoints, callTimeoutMs);
  try {
    return await work(client);
  } catch (error) {
    throw isEtcdFailure(error) ? etcdUnavailable(endpoints, error) : error;
  } finally {
    client.close();
  }
}
