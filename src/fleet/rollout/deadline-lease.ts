/**
 * The rollout's deadline: `relup/groups/<group>/rollout-deadline`, put under a lease of `deadlineS`
 * seconds that the driver keeps alive (etcd3's lease keepalive) while it drives. When the driver is gone
 * that long, etcd deletes the key on the lease's expiry and the node agents revert the rollout by
 * themselves. `release()` revokes it (the rollout ended); `abandon()` only stops the keepalive, so that
 * the key goes when the lease expires (the driver stops without ending the rollout).
 */
import os from "node:os";
import type { Etcd3 } from "etcd3";
import { rolloutDeadlineKey } from "../rollout-record.ts";

export interface DeadlineLease {
  release(): Promise<void>;
  abandon(): void;
}

export async function holdDeadline(client: Etcd3, group: string, rolloutId: string, deadlineS: number): Promise<DeadlineLease> {
  const lease = client.lease(deadlineS, { autoKeepAlive: true });
  lease.on("lost", () => undefined);
  await lease.put(rolloutDeadlineKey(group)).value(JSON.stringify({ rollout: rolloutId, driver: { host: os.hostname(), pid: process.pid } }));
  return {
    release: () => lease.revoke(),
    abandon: () => lease.release(),
  };
}
