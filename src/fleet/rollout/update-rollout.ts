/**
 * Every write of the rollout record: a transaction on the record's mod revision, so a write never
 * overwrites what someone else wrote since (an agent that found the deadline passed, another driver).
 * When it loses, it reads the record again and asks `change` again with what is there now.
 */
import type { Etcd3 } from "etcd3";
import { BugError } from "../../errors.ts";
import { RolloutRecord, rolloutKey } from "../rollout-record.ts";
import type { GroupWatch } from "./group-watch.ts";

/** `change` gets the current record and returns the next one, or undefined to write nothing. Returns what is in etcd after. */
export async function updateRollout(client: Etcd3, watch: GroupWatch, change: (record: RolloutRecord) => RolloutRecord | undefined): Promise<RolloutRecord> {
  const key = rolloutKey(watch.group);
  let current = watch.rollout;
  for (let attempt = 0; attempt < 20; attempt++) {
    if (!current) throw new BugError(`${key} is gone while a rollout drives it`);
    const next = change(current.record);
    if (!next) return current.record;
    const value = JSON.stringify(RolloutRecord.parse({ ...next, updated: new Date().toISOString() }));
    const result = await client.if(key, "Mod", "==", current.modRevision).then(client.put(key).value(value)).commit();
    if (result.succeeded) {
      watch.wrote(key, result.header.revision, value);
      return watch.rollout!.record;
    }
    const fresh = (await client.get(key).exec()).kvs[0];
    current = fresh ? { record: RolloutRecord.parse(JSON.parse(fresh.value.toString())), modRevision: fresh.mod_revision } : undefined;
  }
  throw new BugError(`${key}: 20 writes in a row lost to other writers`);
}

/** Write a new rollout record: only if there is none, or over the finished one read at `replacing` (its mod revision). */
export async function createRollout(client: Etcd3, watch: GroupWatch, record: RolloutRecord, replacing: string | undefined): Promise<boolean> {
  const key = rolloutKey(record.group);
  const value = JSON.stringify(RolloutRecord.parse(record));
  const txn = replacing === undefined ? client.if(key, "Create", "==", 0) : client.if(key, "Mod", "==", replacing);
  const result = await txn.then(client.put(key).value(value)).commit();
  if (result.succeeded) watch.wrote(key, result.header.revision, value);
  return result.succeeded;
}
