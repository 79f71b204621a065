/**
 * The test harness's etcd (test/helpers/etcd.ts): a real server on loopback that answers the etcd3
 * client, with leases, transactions and watches; gone, with its directory, once stopped.
 */
import { existsSync } from "node:fs";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { isAlive } from "../../src/runtime/process-exit.ts";
import { startEtcd, useEtcd } from "../helpers/etcd.ts";

describe("the etcd test harness", () => {
  const etcd = useEtcd();

  it("starts a server on a free loopback port that serves reads, writes, leases, transactions and watches", async () => {
    const server = await etcd();
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new Etcd3({ hosts: server.endpoint });
    try {
      await client.put("k").value("v");
      expect(await client.get("k").string()).toBe("v");
      // A transaction that creates a key only when it does not exist: the fleet's locks and records.
      const first = await client.if("once", "Create", "==", 0).then(client.put("once").value("a")).commit();
      const second = await client.if("once", "Create", "==", 0).then(client.put("once").value("b")).commit();
      expect([first.succeeded, second.succeeded]).toEqual([true, false]);
      // A watch sees a key written under a lease, and its deletion when the lease is revoked.
      const watcher = await client.watch().prefix("nodes/").create();
      const seen: string[] = [];
      const deleted = new Promise<void>((resolve) => {
        watcher.on("put", (kv) => seen.push(`put ${kv.key.toString()}`));
        watcher.on("delete", (kv) => {
          seen.push(`delete ${kv.key.toString()}`);
          resolve();
        });
      });
      const lease = client.lease(10);
      await lease.put("nodes/a").value("up");
      await lease.revoke();
      await deleted;
      expect(seen).toEqual(["put nodes/a", "delete nodes/a"]);
      await watcher.cancel();
    } finally {
      client.close();
    }
  });

  it("two servers started at once get their own ports and directories", async () => {
    const [a, b] = await Promise.all([etcd(), etcd()]);
    expect(a.endpoint).not.toBe(b.endpoint);
    expect(a.dataDir).not.toBe(b.dataDir);
  });

  it("pause takes the server away and resume brings it back on the same endpoint with its data", async () => {
    const server = await etcd();
    const client = new Etcd3({ hosts: server.endpoint, dialTimeout: 2_000, defaultCallOptions: (c) => (c.isStream ? {} : { deadline: Date.now() + 2_000 }) });
    try {
      await client.put("kept").value("yes");
      const first = server.pid;
      await server.pause();
      expect(isAlive(first)).toBe(false);
      await expect(client.get("kept").string()).rejects.toThrow();
      await server.resume();
      expect(server.pid).not.toBe(first);
      // A new client: the first one's circuit breaker stays open for a while after the failed read.
      const again = new Etcd3({ hosts: server.endpoint });
      try {
        expect(await again.get("kept").string()).toBe("yes");
      } finally {
        again.close();
      }
    } finally {
      client.close();
    }
  });

  it("stop ends the process and removes its data directory", async () => {
    const server = await startEtcd();
    const pid = server.pid;
    expect(isAlive(pid)).toBe(true);
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
    await server.stop();
  });
});
