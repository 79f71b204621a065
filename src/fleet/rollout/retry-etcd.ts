/**
 * The driver rides out an etcd that is briefly away (restarted, a leader election, a network blip): an
 * etcd call that fails as etcd's failure (not ours) is tried again, 250 ms then doubling to 2 s apart,
 * until `forMs` have passed; then the failure stands. Its writes are transactions on the record's mod
 * revision, so a write tried again never overwrites what someone else wrote meanwhile.
 */
import { isEtcdFailure } from "../etcd-client.ts";

export async function retryEtcd<T>(work: () => Promise<T>, forMs: number, said?: (line: string) => void): Promise<T> {
  const until = Date.now() + forMs;
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isEtcdFailure(error) || Date.now() + wait > until) throw error;
      said?.(`etcd did not answer (${((error as Error).message ?? String(error)).split("\n")[0]}): trying again in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
