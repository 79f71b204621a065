/** The group's rollout record as etcd has it (undefined: none), or why it does not parse. */
import type { Etcd3 } from "etcd3";
import { RolloutRecord, rolloutKey } from "../rollout-record.ts";

export async function readRollout(client: Etcd3, group: string): Promise<{ record?: RolloutRecord; unreadable?: string }> {
  const text = await client.get(rolloutKey(group)).string();
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
