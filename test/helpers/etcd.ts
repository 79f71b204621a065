/**
 * A real etcd for fleet tests (scripts/lib/etcd-server.ts): `useEtcd()` stops every server a test started
 * after that test. The pretest step (scripts/ensure-test-packages.mjs) installs the binary, or says how,
 * before any test runs.
 */
import { afterEach } from "vitest";
import { startEtcd, type EtcdServer } from "../../scripts/lib/etcd-server.ts";

export { ETCD_BINARY, startEtcd, type EtcdServer } from "../../scripts/lib/etcd-server.ts";

/** etcd servers for a test file, stopped (and their directories removed) after each test. */
export function useEtcd(): () => Promise<EtcdServer> {
  const started: EtcdServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()));
  });
  return async () => {
    const server = await startEtcd();
    started.push(server);
    return server;
  };
}
