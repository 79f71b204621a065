/**
 * Wait for an etcd key to reach a state, on etcd's own events (a watch), never by polling with sleeps:
 * the watch is opened first, then the current value is read, so no change between the two is missed.
 */
import type { Etcd3 } from "etcd3";

/** Resolves with the key's value (undefined: deleted) once `until` holds for it; rejects after timeoutMs. */
export async function waitForKey(client: Etcd3, key: string, until: (value: string | undefined) => boolean, timeoutMs = 20_000): Promise<string | undefined> {
  const watcher = await client.watch().key(key).create();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${key} did not reach the awaited state within ${timeoutMs} ms`)), timeoutMs);
      const check = (value: string | undefined) => {
        if (until(value)) resolve(value);
      };
      watcher.on("put", (kv) => check(kv.value.toString()));
      watcher.on("delete", () => check(undefined));
      client.get(key).string().then((value) => check(value ?? undefined), reject);
    });
  } finally {
    clearTimeout(timer);
    await watcher.cancel();
  }
}
