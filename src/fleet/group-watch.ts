/**
 * What a node agent watches of its group in etcd: the desired record (`desired`), and the rollout record
 * with its deadline key (`rollout`, `rollout-deadline`: one watch over the range of both, so that their
 * changes arrive in etcd's order, e.g. a rollout said succeeded before its deadline's lease is revoked).
 * Each watch is opened before the first read, so nothing is missed between the two; etcd that does not
 * answer then is tried again with backoff. A record that does not parse is logged and ignored (the last
 * good one stands).
 */
import type { Etcd3, Watcher } from "etcd3";
import type { z } from "zod";
import { DesiredRecord, desiredKey } from "./desired-record.ts";
import { RolloutRecord, rolloutDeadlineKey, rolloutKey } from "./rollout-record.ts";

export interface GroupEvents {
  desired(record: DesiredRecord): void;
  /** the rollout record (undefined: deleted) */
  rollout(record: RolloutRecord | undefined): void;
  /** the deadline key: present (with the rollout id its value names) or deleted; `initial` for the first read */
  deadline(present: boolean, initial: boolean): void;
  log(event: string, fields: Record<string, unknown>): void;
}

export async function watchGroup(client: Etcd3, group: string, events: GroupEvents): Promise<{ cancel(): Promise<void> }> {
  const keys = { desired: desiredKey(group), rollout: rolloutKey(group), deadline: rolloutDeadlineKey(group) };
  const watchers: Watcher[] = [];
  const onKey = (key: string, value: string | undefined, initial: boolean) => {
    if (key === keys.desired) {
      const record = value === undefined ? undefined : parse(DesiredRecord, key, value, events, "fleet desired release unreadable");
      if (record) events.desired(record);
    } else if (key === keys.rollout) {
      if (value === undefined) return events.rollout(undefined);
      const record = parse(RolloutRecord, key, value, events, "fleet rollout record unreadable");
      if (record) events.rollout(record);
    } else if (key === keys.deadline) events.deadline(value !== undefined, initial);
  };
  let cancelled = false;
  let retry: NodeJS.Timeout | undefined;
  const cancel = async () => {
    cancelled = true;
    clearTimeout(retry);
    await Promise.all(watchers.splice(0).map((w) => w.cancel().catch(() => undefined)));
  };
  const range = { start: keys.rollout, end: `${keys.deadline}\0` };
  // The watches first, then the reads, so that nothing is missed between them. etcd down at the start:
  // tried again with backoff (100 ms doubling to 5 s) until it answers or the watch is cancelled.
  const begin = async (attempt: number): Promise<void> => {
    try {
      const builders = [() => client.watch().key(keys.desired), () => client.watch().inRange(range)];
      while (watchers.length < builders.length) {
        const watcher = await builders[watchers.length]!().create();
        if (cancelled) return void (await watcher.cancel().catch(() => undefined));
        watcher.on("put", (kv) => onKey(kv.key.toString(), kv.value.toString(), false));
        watcher.on("delete", (kv) => onKey(kv.key.toString(), undefined, false));
        watcher.on("error", (error: Error) => events.log("fleet watch error", { error: error.message }));
        watchers.push(watcher);
      }
      const current = await client.get(keys.desired).string();
      const values = await client.getAll().inRange(range).strings();
      if (cancelled) return;
      if (current !== null) onKey(keys.desired, current, true);
      if (values[keys.deadline] === undefined) onKey(keys.deadline, undefined, true);
      for (const [key, value] of Object.entries(values)) onKey(key, value, true);
    } catch (error) {
      if (cancelled) return;
      const retryInMs = Math.min(5_000, 100 * 2 ** attempt);
      events.log("fleet watch failed", { key: keys.desired, error: (error as Error).message, retryInMs });
      retry = setTimeout(() => void begin(attempt + 1), retryInMs);
    }
  };
  await begin(0);
  return { cancel };
}

function parse<T>(schema: z.ZodType<T>, key: string, value: string, events: GroupEvents, event: string): T | undefined {
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch (error) {
    events.log(event, { key, error: `not JSON (${(error as Error).message})` });
    return undefined;
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    events.log(event, { key, error: parsed.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ") });
    return undefined;
  }
  return parsed.data;
}
