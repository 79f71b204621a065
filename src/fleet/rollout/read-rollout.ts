/** The group's rollout record as etcd has it (undefined: none), at `revision` when given, or why it does not parse. */
import type { Etcd3 } from "etcd3";
import { RolloutRecord, rolloutKey } from "../rollout-record.ts";

export async function readRollout(client: Etcd3, group: string, revision?: string): Promise<{ record?: RolloutRecord; unreadable?: string }> {
  const read = client.get(rolloutKey(group));
  const text = await (revision === undefined ? read : read.revision(revision)).string();
  if (text === null) return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { unreadable: `${rolloutKey(group)}: not JSON (${(error as Error).message})` };
  }
  const parsed = RolloutRecord.safeParse(data);
  if (parsed.success) return { record: parsed.data };
  return { unreadable: `${rolloutKey(group)}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ")}` };
}
