/** The launcher's log files: a line the disk refuses costs that line, never the launcher; the file closes once. */
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LogFile } from "../../src/runtime/log-file.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

const tempDir = useTempDirs();

describe("LogFile", () => {
  it("writes lines in order and closes the file", async () => {
    const file = path.join(await tempDir(), "log.jsonl");
    const log = new LogFile(openSync(file, "a"));
    for (let i = 0; i < 100; i++) log.write(JSON.stringify({ i }));
    await log.end();
    expect(readFileSync(file, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([...Array(100).keys()]);
  });

  it("flushed() resolves once every line written so far is in the file, and the file stays open", async () => {
    const file = path.join(await tempDir(), "log.jsonl");
    const log = new LogFile(openSync(file, "a"));
    await log.flushed();
    for (let i = 0; i < 100; i++) log.write(JSON.stringify({ i }));
    await log.flushed();
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(100);
    log.write(JSON.stringify({ i: 100 }));
    await log.flushed();
    await log.end();
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(101);
  });

  it("on a full disk (a real ENOSPC from /dev/full) drops the lines and never throws", async () => {
    const log = new LogFile(openSync("/dev/full", "w"));
    log.write("one");
    log.write("two");
    await expect(log.end()).resolves.toBeUndefined();
  });

  it("drops a line written after end(): it never reaches a file that reuses the descriptor", async () => {
    const dir = await tempDir();
    const log = new LogFile(openSync(path.join(dir, "first"), "a"));
    log.write("before");
    await log.end();
    const second = path.join(dir, "second");
    const fd = openSync(second, "a");
    log.write("late");
    await log.end();
    closeSync(fd);
    expect(readFileSync(path.join(dir, "first"), "utf8")).toBe("before\n");
    expect(readFileSync(second, "utf8")).toBe("");
  });

  it("a backlog past its bound is dropped and counted, and the count is written with the next line", async () => {
    const file = path.join(await tempDir(), "log.jsonl");
    const log = new LogFile(openSync(file, "a"), 2);
    for (let i = 0; i < 10; i++) log.write(JSON.stringify({ i }));
    await new Promise((resolve) => setImmediate(resolve));
    log.write(JSON.stringify({ i: "after" }));
    await log.end();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ event: "log lines lost", error: "backlog" }));
    const lost = lines.filter((l) => l.event === "log lines lost").reduce((n, l) => n + (l.count as number), 0);
    expect(lines.filter((l) => l.event === undefined).length + lost).toBe(11);
  });
});
