/**
 * One driver per group: etcd3's lock on `relup/groups/<group>/rollout-lock` (a key created under the
 * holder's lease, kept alive while it drives; gone when the driver exits or its lease expires). The key's
 * value names the holder (host, pid, rollout), so a refused driver can say who drives.
 */
import os from "node:os";
import { EtcdLockFailedError, type Etcd3, type Lock } from "etcd3";
import { ExitCode, UserError } from "../../errors.ts";
import { rolloutLockKey } from "../rollout-record.ts";

/** The lock's lease: 10 s, or half the deadline when that is shorter (so `--resume` can take over before the deadline passes). */
export function lockTtlS(deadlineS: number): number {
  return Math.max(1, Math.min(10, Math.floor(deadlineS / 2)));
}

export interface RolloutLock {
  release(): Promise<void>;
}

/**
 * Take the group's lock. Held by another driver: refused at once (exit 1, naming the holder), or with
 * `waitMs` (`--resume`) tried again each time the lock key goes, until then.
 */
export async function takeRolloutLock(client: Etcd3, group: string, options: { ttlS: number; waitMs?: number }): Promise<RolloutLock> {
  const key = rolloutLockKey(group);
  const until = Date.now() + (options.waitMs ?? 0);
  const watcher = await client.watch().key(key).create();
  try {
    for (;;) {
      const gone = new Promise<void>((resolve) => watcher.once("delete", () => resolve()));
      const lock: Lock = client.lock(key).ttl(options.ttlS);
      try {
        await lock.acquire();
        const lease = await lock.leaseId();
        if (lease !== null) await client.put(key).value(JSON.stringify({ host: os.hostname(), pid: process.pid })).lease(lease);
        return { release: () => lock.release() };
      } catch (error) {
        if (!(error instanceof EtcdLockFailedError)) throw error;
      }
      const left = until - Date.now();
      if (left <= 0) throw new UserError(`another \`relup fleet rollout\` drives group ${group} (${await holder(client, key)}). Fix: wait for it to end, or, if it was stopped, \`relup fleet rollout --resume\` (it waits for the lock).`, ExitCode.checkFailed);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  } finally {
    await watcher.cancel();
  }
}

async function holder(client: Etcd3, key: string): Promise<string> {
  const text = await client.get(key).string();
  try {
    const { host, pid } = JSON.parse(text ?? "") as { host: string; pid: number };
    return `pid ${pid} on ${host}, holding ${key}`;
  } catch {
    return `holding ${key}`;
  }
}
