/**
 * The feed behind `relup observe`, on a real node: it sends the node read-only requests alone, and a page
 * closed and opened again while the feed's journal read still waits on the node gets every journal change
 * once (one loop follows the journal, not two).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { applyRelease } from "../../src/apply/apply-release.ts";
import { NodeFeed, type FeedEvent } from "../../src/observe/node-feed.ts";
import { controlRequest } from "../../src/runtime/control-client.ts";
import { useLiveNodes } from "../helpers/live-node.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();
const liveNode = useLiveNodes(tempDir);
const FIXTURES = path.resolve("fixtures");

describe("the node feed of relup observe", () => {
  it("refuses to send any request that is not read-only", async () => {
    const feed = new NodeFeed(await tempDir());
    for (const cmd of ["stop", "install", "rollback", "remove", "permanent", "unpack", "metrics", "states"]) expect(() => feed.ask({ cmd } as never)).toThrow(`relup observe sends only read-only requests; ${cmd} is not one`);
  });

  it("a page closed and opened again while the journal read waits gets each journal change once", async () => {
    const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
    const feed = new NodeFeed(n.root);
    try {
      const first = new Promise<void>((resolve) => {
        const unsubscribe = feed.subscribe((e) => {
          if (e.event !== "journal") return;
          // The first journal event is in: the feed's next read now waits on the node. Close the page.
          unsubscribe();
          resolve();
        });
      });
      await first;
      const journal: Extract<FeedEvent, { event: "journal" }>["data"][] = [];
      const installed = new Promise<void>((resolve) =>
        feed.subscribe((e) => {
          if (e.event !== "journal") return;
          journal.push(e.data);
          if (e.data.records.some((r) => r.outcome === "installed")) resolve();
        }),
      );
      await applyRelease({ root: n.root, release: n.v2, confirm: async () => true });
      await installed;
      const seqs = journal.map((j) => j.seq);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    } finally {
      feed.stop();
    }
  }, 60_000);

  it("a node restarted by its launcher: the feed drops the previous node's samples and follows the new node's", async () => {
    const n = await liveNode({ from: path.join(FIXTURES, "calculator", "1.0.0"), to: path.join(FIXTURES, "calculator", "1.1.0"), app: "calculator" });
    const feed = new NodeFeed(n.root);
    try {
      const seen: { pid: number; samples: number }[] = [];
      let pid = 0;
      const restarted = new Promise<void>((resolve) =>
        feed.subscribe((e) => {
          if (e.event === "overview") pid = e.data.status.pid;
          if (e.event === "samples" && e.data.length > 0) {
            seen.push({ pid, samples: e.data.length });
            if (pid !== n.ready.pid) resolve();
          }
        }),
      );
      // Samples of the first node, then the node is killed; the launcher starts another.
      await new Promise<void>((resolve) => feed.subscribe((e) => e.event === "samples" && e.data.length > 0 && resolve()));
      process.kill(n.ready.pid, "SIGKILL");
      await restarted;
      // Every sample a browser that connects now is given is the new node's.
      const late: FeedEvent[] = [];
      feed.subscribe((e) => void late.push(e))();
      const overview = late.find((e) => e.event === "overview") as Extract<FeedEvent, { event: "overview" }>;
      const samples = late.find((e) => e.event === "samples") as Extract<FeedEvent, { event: "samples" }>;
      expect(overview.data.status.pid).not.toBe(n.ready.pid);
      expect(samples.data.length).toBeGreaterThan(0);
      // Samples are stamped with the end of the second they cover (epoch ms): none before the new node began.
      // The node's uptime read now: the feed's overview may be one it read a while ago.
      const { uptimeMs } = await controlRequest(n.root, { cmd: "status" });
      const startedAt = Date.now() - uptimeMs;
      expect(samples.data.filter((s) => s.t <= startedAt)).toEqual([]);
      expect(seen.at(-1)!.pid).toBe(overview.data.status.pid);
    } finally {
      feed.stop();
    }
  }, 60_000);
});
