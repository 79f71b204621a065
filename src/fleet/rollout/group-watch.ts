/**
 * What the driver sees of its group: one etcd watch on `relup/groups/<group>/` (opened before the first
 * read, so no change between the two is missed) that keeps the node records, the rollout record (and its
 * mod revision, for the driver's transactions) and every health read each node's agent published. The
 * driver waits on it with `until(check, timeoutMs)`: the check runs on every change, never on a timer.
 */
import type { Etcd3, Watcher } from "etcd3";
import { KEY_ROOT, NodeRecord, nodesPrefix } from "../node-record.ts";
import type { NodeHealth } from "../node-health.ts";
import { RolloutRecord, rolloutKey } from "../rollout-record.ts";

interface Entry {
  revision: bigint;
  value: string | undefined;
}

export class GroupWatch {
  readonly nodes = new Map<string, NodeRecord>();
  /** every distinct health read per node, in order (a node gone and back starts a new list) */
  readonly health = new Map<string, NodeHealth[]>();
  rollout: { record: RolloutRecord; modRevision: string } | undefined;
  #entries = new Map<string, Entry>();
  #waiters = new Set<() => void>();
  #failure: Error | undefined;

  private constructor(
    readonly group: string,
    private readonly client: Etcd3,
    private readonly watcher: Watcher,
  ) {}

  static async open(client: Etcd3, group: string): Promise<GroupWatch> {
    const watcher = await client.watch().prefix(`${KEY_ROOT}/${group}/`).create();
    const watch = new GroupWatch(group, client, watcher);
    watcher.on("put", (kv) => watch.#apply(kv.key.toString(), BigInt(kv.mod_revision), kv.value.toString()));
    watcher.on("delete", (kv) => watch.#apply(kv.key.toString(), BigInt(kv.mod_revision), undefined));
    watcher.on("error", (error: Error) => {
      watch.#failure = error;
      watch.#notify();
    });
    await watch.#read();
    return watch;
  }

  /** Everything under the group's prefix as etcd has it now (what the watch may not have delivered yet). */
  async #read(): Promise<void> {
    const all = await this.client.getAll().prefix(`${KEY_ROOT}/${this.group}/`).exec();
    for (const kv of all.kvs) this.#apply(kv.key.toString(), BigInt(kv.mod_revision), kv.value.toString());
    // A key gone since is not in the answer: deleted here unless a newer event says otherwise.
    const present = new Set(all.kvs.map((kv) => kv.key.toString()));
    const revision = BigInt(all.header.revision);
    for (const key of [...this.#entries.keys()]) if (!present.has(key)) this.#apply(key, revision, undefined);
  }

  async close(): Promise<void> {
    await this.watcher.cancel();
  }

  /**
   * Resolves with check()'s first defined answer, checked now and after every change; "timeout" after
   * timeoutMs. At the timeout the group is read once more first (a driver paused, or a watch behind,
   * decides on what etcd has now, not on the events it has not read yet).
   */
  until<T>(check: () => T | undefined, timeoutMs: number): Promise<T | "timeout"> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const run = () => {
        if (this.#failure) return finish(() => reject(this.#failure));
        let answer: T | undefined;
        try {
          answer = check();
        } catch (error) {
          return finish(() => reject(error as Error));
        }
        if (answer !== undefined) finish(() => resolve(answer));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(run);
        settle();
      };
      this.#waiters.add(run);
      const expire = () => {
        if (!this.#waiters.has(run)) return;
        this.#read().then(
          () => {
            run();
            finish(() => resolve("timeout"));
          },
          () => finish(() => resolve("timeout")),
        );
      };
      // setTimeout's own limit (about 24.8 days): a longer wait is a wait without end, here.
      timer = setTimeout(expire, Math.min(Math.max(0, timeoutMs), 2_147_483_647));
      run();
    });
  }

  /** What this process wrote itself (a transaction's revision), before its watch event arrives. */
  wrote(key: string, revision: string, value: string): void {
    this.#apply(key, BigInt(revision), value);
  }

  #apply(key: string, revision: bigint, value: string | undefined): void {
    const known = this.#entries.get(key);
    if (known && known.revision >= revision) return;
    this.#entries.set(key, { revision, value });
    const prefix = nodesPrefix(this.group);
    if (key.startsWith(prefix)) this.#node(key.slice(prefix.length), value);
    else if (key === rolloutKey(this.group)) this.#rollout(value, revision);
    this.#notify();
  }

  #node(id: string, value: string | undefined): void {
    const parsed = value === undefined ? undefined : parse(NodeRecord, value);
    if (!parsed) {
      this.nodes.delete(id);
      this.health.delete(id);
      return;
    }
    this.nodes.set(id, parsed);
    if (parsed.health) {
      const reads = this.health.get(id) ?? [];
      if (reads.at(-1)?.at !== parsed.health.at) reads.push(parsed.health);
      this.health.set(id, reads);
    }
  }

  #rollout(value: string | undefined, revision: bigint): void {
    const record = value === undefined ? undefined : parse(RolloutRecord, value);
    this.rollout = record ? { record, modRevision: String(revision) } : undefined;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function parse<T>(schema: { safeParse(data: unknown): { success: true; data: T } | { success: false } }, text: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
