/**
 * The nodes of a group, as their records in etcd say (node-record.ts), sorted by id. A record that does
 * not parse (written by another tool, or a newer relup) is listed apart with why, never dropped in silence.
 */
import { withEtcd } from "./etcd-client.ts";
import { NodeRecord, nodesPrefix } from "./node-record.ts";

export interface GroupListing {
  group: string;
  nodes: NodeRecord[];
  unreadable: { key: string; problem: string }[];
}

export async function listGroup(endpoints: readonly string[], group: string): Promise<GroupListing> {
  const prefix = nodesPrefix(group);
  return groupListing(group, await withEtcd(endpoints, (client) => client.getAll().prefix(prefix).strings()));
}

/** The group's records (key → value) as a listing. */
export function groupListing(group: string, kvs: Record<string, string>): GroupListing {
  const nodes: NodeRecord[] = [];
  const unreadable: GroupListing["unreadable"] = [];
  for (const [key, value] of Object.entries(kvs)) {
    let data: unknown;
    try {
      data = JSON.parse(value);
    } catch (error) {
      unreadable.push({ key, problem: `not JSON (${(error as Error).message})` });
      continue;
    }
    const parsed = NodeRecord.safeParse(data);
    if (parsed.success) nodes.push(parsed.data);
    else unreadable.push({ key, problem: parsed.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ") });
  }
  nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { group, nodes, unreadable };
}
