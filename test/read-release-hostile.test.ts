/**
 * The safe release reader against hostile and broken input. Every case starts from a real built
 * release, changes one thing, and checks that the reader refuses it with the expected issue, a message
 * naming the file and the fix, and nothing left on disk: no temporary directory, no destination.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, link } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../src/release/build-release.ts";
import { ReleaseError, type ReleaseIssue } from "../src/release/issues.ts";
import { readRelease, type ReadReleaseOptions } from "../src/release/read-release.ts";
import { sha256 } from "../src/release/fs-utils.ts";
import { craftTarball, entriesOfRelease, tarBytes, type CraftEntry } from "./helpers/craft-tarball.ts";

const TOP = "calculator-1.0.0";
const APP_JSON = `${TOP}/lib/calculator-1.0.0/app.json`;
const RELEASE_JSON = `${TOP}/release.json`;
const MODULE = `${TOP}/lib/calculator-1.0.0/calculator.js`;

let root: string;
let releaseDir: string;
let good: CraftEntry[];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "relup-hostile-"));
  const built = await buildRelease({ dir: "fixtures/calculator/1.0.0", out: path.join(root, "build") });
  releaseDir = built.releaseDir;
  good = await entriesOfRelease(releaseDir);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function body(entries: CraftEntry[], name: string): string {
  const entry = entries.find((e) => e.path === name);
  if (!entry?.body) throw new Error(`no entry ${name}`);
  return entry.body.toString();
}

function replace(entries: CraftEntry[], name: string, next: string | Buffer): CraftEntry[] {
  return entries.map((e) => (e.path === name ? { ...e, body: next } : e));
}

/** Edit a JSON file of the release and, unless it is release.json, re-list its new sha256, so only the edit is wrong. */
function editJson(entries: CraftEntry[], name: string, edit: (json: Record<string, any>) => void): CraftEntry[] {
  const json = JSON.parse(body(entries, name));
  edit(json);
  const text = JSON.stringify(json, null, 2) + "\n";
  let out = replace(entries, name, text);
  if (name !== RELEASE_JSON) {
    out = editJson(out, RELEASE_JSON, (release) => {
      release.files[name.slice(TOP.length + 1)] = sha256(text);
    });
  }
  return out;
}

/** Reads `input` (a tarball's bytes, or a directory) and returns the issues it was refused with. */
async function refused(input: Buffer | { dir: string }, limits?: ReadReleaseOptions["limits"]): Promise<{ issues: readonly ReleaseIssue[]; message: string }> {
  const work = await mkdtemp(path.join(root, "case-"));
  const temp = path.join(work, "temp");
  const dest = path.join(work, "dest");
  await mkdir(temp);
  await mkdir(dest);
  let source: string;
  if (Buffer.isBuffer(input)) {
    source = path.join(work, "release.tar.gz");
    await writeFile(source, input);
  } else {
    source = input.dir;
  }
  const error = await readRelease(source, { into: path.join(dest, "release"), tempDir: temp, ...(limits ? { limits } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReleaseError);
  const { issues, message, exitCode } = error as ReleaseError;
  expect(exitCode).toBe(2);
  expect(message).toContain("Fix:");
  expect(message).toContain(source);
  expect(await readdir(temp)).toEqual([]);
  expect(await readdir(dest)).toEqual([]);
  return { issues, message };
}

const codes = (r: { issues: readonly ReleaseIssue[] }) => r.issues.map((i) => i.code);

describe("readRelease accepts what relup build wrote", () => {
  it("reads the built tarball and the built directory", async () => {
    const fromDir = await readRelease(releaseDir);
    expect(fromDir.release.name).toBe("calculator");
    const tarball = await readRelease(`${releaseDir}.tar.gz`);
    expect(tarball.apps.map((a) => a.name)).toEqual(["calculator"]);
    expect(tarball.identity).toBe(fromDir.identity);
    await tarball.close();
  });

  it("re-crafted entries of a good release are accepted, so every refusal below is the mutation's", async () => {
    const work = await mkdtemp(path.join(root, "ok-"));
    const file = path.join(work, "ok.tar.gz");
    await writeFile(file, craftTarball(good));
    const loaded = await readRelease(file, { into: path.join(work, "unpacked") });
    expect(loaded.dir).toBe(path.join(work, "unpacked"));
    expect(await readFile(path.join(work, "unpacked", "release.json"), "utf8")).toBe(body(good, RELEASE_JSON));
    expect((await readdir(work)).sort()).toEqual(["ok.tar.gz", "unpacked"]);
  });
});

describe("readRelease refuses unsafe archive entries", () => {
  it("an entry whose path climbs out with '..'", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/../evil.js`, body: "x" }]));
    expect(codes(r)).toEqual(["unsafe-path"]);
    expect(r.message).toContain("'..'");
  });

  it("an entry with an absolute path", async () => {
    expect(codes(await refused(craftTarball([{ path: "/tmp/relup-evil.js", body: "x" }, ...good])))).toEqual(["unsafe-path"]);
  });

  it("an entry with a backslash path", async () => {
    expect(codes(await refused(craftTarball([...good, { path: `${TOP}\\..\\evil.js`, body: "x" }])))).toEqual(["unsafe-path"]);
  });

  it("a symlink that escapes the release", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/lib/passwd`, type: "SymbolicLink", linkpath: "/etc/passwd" }]));
    expect(codes(r)).toEqual(["link-entry"]);
    expect(r.message).toContain("/etc/passwd");
  });

  it("a relative symlink that climbs out of the release", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/up`, type: "SymbolicLink", linkpath: "../../../../.." }]));
    expect(codes(r)).toEqual(["link-entry"]);
  });

  it("a hardlink to a file outside the release", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/shadow`, type: "Link", linkpath: "/etc/shadow" }]));
    expect(codes(r)).toEqual(["link-entry"]);
  });

  it("a character device", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/null`, type: "CharacterDevice" }]));
    expect(r.issues).toEqual([expect.objectContaining({ code: "special-entry", kind: "character device" })]);
  });

  it("a block device", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/sda`, type: "BlockDevice" }]));
    expect(r.issues).toEqual([expect.objectContaining({ code: "special-entry", kind: "block device" })]);
  });

  it("a named pipe", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/pipe`, type: "FIFO" }]));
    expect(r.issues).toEqual([expect.objectContaining({ code: "special-entry", kind: "named pipe (FIFO)" })]);
  });

  it("the same path twice (a later entry would overwrite a checked one)", async () => {
    const r = await refused(craftTarball([...good, { path: MODULE, body: "module.exports = {};" }]));
    expect(codes(r)).toEqual(["duplicate-entry"]);
  });

  it("an entry outside the single top-level directory", async () => {
    const r = await refused(craftTarball([...good, { path: "other-1.0.0/release.json", body: "{}" }]));
    expect(codes(r)).toEqual(["outside-release-dir"]);
  });

  it("a top-level entry that is a file, not the release directory", async () => {
    const r = await refused(craftTarball([{ path: TOP, body: "not a directory" }]));
    expect(codes(r)).toEqual(["outside-release-dir"]);
  });
});

describe("readRelease refuses oversized archives", () => {
  it("an entry over the per-file limit", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/big.bin`, body: Buffer.alloc(128 * 1024) }]), { maxEntryBytes: 64 * 1024 });
    expect(r.issues).toEqual([expect.objectContaining({ code: "oversized", what: "entry", size: 128 * 1024, limit: 64 * 1024 })]);
  });

  it("a header that claims a huge size, refused before any byte is written", async () => {
    const r = await refused(craftTarball([{ path: `${TOP}/`, type: "Directory" }, { path: `${TOP}/huge.bin`, size: 300 * 1024 * 1024 }]));
    expect(r.issues).toEqual([expect.objectContaining({ code: "oversized", what: "entry" })]);
  });

  it("files that together exceed the release limit", async () => {
    const r = await refused(craftTarball(good), { maxTotalBytes: 4096 });
    expect(r.issues).toEqual([expect.objectContaining({ code: "oversized", what: "release" })]);
  });

  it("more entries than the limit", async () => {
    expect(codes(await refused(craftTarball(good), { maxEntries: 3 }))).toEqual(["too-many-entries"]);
  });
});

describe("readRelease refuses broken archives", () => {
  it("a truncated gzip stream", async () => {
    const whole = craftTarball(good);
    const r = await refused(whole.subarray(0, Math.floor(whole.length / 2)));
    expect(r.issues).toEqual([expect.objectContaining({ code: "corrupt-archive", detail: "the gzip stream is truncated" })]);
  });

  it("a file that is not gzip at all", async () => {
    expect(codes(await refused(Buffer.from("this is not a tarball\n".repeat(100))))).toEqual(["corrupt-archive"]);
  });

  it("valid gzip around something that is not a tar archive", async () => {
    expect(codes(await refused(gzipSync(Buffer.from("plain text, not tar\n".repeat(200)))))).toEqual(["corrupt-archive"]);
  });

  it("a tar archive cut in the middle of a file, inside a valid gzip", async () => {
    const tar = tarBytes(good);
    expect(codes(await refused(gzipSync(tar.subarray(0, 512 * 6 + 100))))).toEqual(["corrupt-archive"]);
  });

  it("an archive with no entries", async () => {
    expect(codes(await refused(gzipSync(Buffer.alloc(1024))))).toEqual(["corrupt-archive"]);
  });
});

describe("readRelease refuses content that is not what was built", () => {
  it("a module changed after the build (checksum mismatch)", async () => {
    const r = await refused(craftTarball(replace(good, MODULE, body(good, MODULE).replace("a + b", "a - b"))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "checksum-mismatch", entry: "lib/calculator-1.0.0/calculator.js" })]);
    expect(r.message).toContain("release.json");
  });

  it("a file added after the build (not listed in release.json)", async () => {
    const r = await refused(craftTarball([...good, { path: `${TOP}/lib/calculator-1.0.0/backdoor.js`, body: "require('child_process')" }]));
    expect(r.issues).toEqual([expect.objectContaining({ code: "unlisted-file", entry: "lib/calculator-1.0.0/backdoor.js" })]);
  });

  it("a listed file missing from the archive", async () => {
    const r = await refused(craftTarball(good.filter((e) => e.path !== MODULE)));
    expect(codes(r)).toContain("listed-file-missing");
  });

  it("no release.json", async () => {
    const r = await refused(craftTarball(good.filter((e) => e.path !== RELEASE_JSON)));
    expect(r.issues).toEqual([expect.objectContaining({ code: "missing-file" })]);
    expect(r.message).toContain("release.json");
  });

  it("release.json that is not JSON", async () => {
    expect(codes(await refused(craftTarball(replace(good, RELEASE_JSON, "{ not json"))))).toEqual(["invalid-json"]);
  });

  it("an unknown field in release.json", async () => {
    const r = await refused(craftTarball(editJson(good, RELEASE_JSON, (j) => void (j.postInstall = "curl evil | sh"))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", field: "(document)" })]);
    expect(r.message).toContain('"postInstall"');
  });

  it("a release.json of another format version", async () => {
    const r = await refused(craftTarball(editJson(good, RELEASE_JSON, (j) => void (j.format = 2))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", field: "format" })]);
  });

  it("a release version that is not semver", async () => {
    const r = await refused(craftTarball(editJson(good, RELEASE_JSON, (j) => void (j.version = "1.0"))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", field: "version" })]);
  });

  it("release.json that lists a path climbing out of the release", async () => {
    const r = await refused(craftTarball(editJson(good, RELEASE_JSON, (j) => void (j.files["../outside"] = "0".repeat(64)))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", field: 'files["../outside"]' })]);
  });

  it("a top-level directory that does not match release.json", async () => {
    const renamed = good.map((e) => ({ ...e, path: e.path.replace(TOP, "calculator-9.9.9") }));
    const r = await refused(craftTarball(renamed));
    expect(r.issues).toEqual([expect.objectContaining({ code: "mismatch", field: "top-level directory", found: "calculator-9.9.9" })]);
  });

  it("an unknown field in app.json", async () => {
    const r = await refused(craftTarball(editJson(good, APP_JSON, (j) => void (j.hooks = ["preload.js"]))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", file: expect.stringContaining("app.json") })]);
  });

  it("an app.json of another format version", async () => {
    const r = await refused(craftTarball(editJson(good, APP_JSON, (j) => void (j.format = 0))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "invalid-field", field: "format" })]);
  });

  it("an app.json whose version disagrees with release.json", async () => {
    const r = await refused(craftTarball(editJson(good, APP_JSON, (j) => void (j.version = "1.0.1"))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "mismatch", field: "version", expected: "1.0.0", found: "1.0.1" })]);
  });

  it("an app.json module sha256 that is not the module file's", async () => {
    const r = await refused(craftTarball(editJson(good, APP_JSON, (j) => void (j.modules[1].sha256 = "f".repeat(64)))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "mismatch", field: "modules[1].sha256" })]);
  });

  it("an app.json import of a module the release does not contain", async () => {
    const r = await refused(craftTarball(editJson(good, APP_JSON, (j) => void j.modules[3].imports.push("calculator/ghost"))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "unknown-reference", ref: "calculator/ghost", kind: "module" })]);
  });

  it("an application listed in release.json without its app.json", async () => {
    const r = await refused(craftTarball(editJson(good, RELEASE_JSON, (j) => void j.applications.push({ name: "ghost", version: "1.0.0" }))));
    expect(r.issues).toEqual([expect.objectContaining({ code: "missing-file", file: expect.stringContaining("lib/ghost-1.0.0/app.json") })]);
  });
});

describe("readRelease refuses a tampered release directory", () => {
  async function copyOfRelease(): Promise<string> {
    const dir = await mkdtemp(path.join(root, "dir-"));
    for (const entry of good) {
      const target = path.join(dir, entry.path);
      if (entry.type === "Directory") await mkdir(target, { recursive: true });
      else await writeFile(target, entry.body!);
    }
    return path.join(dir, TOP);
  }

  it("a symlink inside the directory", async () => {
    const dir = await copyOfRelease();
    await symlink("/etc/passwd", path.join(dir, "lib", "passwd"));
    expect(codes(await refused({ dir }))).toEqual(["link-entry"]);
  });

  it("a hard link shared with a file outside the release", async () => {
    const dir = await copyOfRelease();
    const outside = path.join(path.dirname(dir), "outside.js");
    await writeFile(outside, "module.exports = {}");
    await link(outside, path.join(dir, "linked.js"));
    expect(codes(await refused({ dir }))).toEqual(["link-entry"]);
  });

  it("a module edited in place", async () => {
    const dir = await copyOfRelease();
    const file = path.join(dir, "lib", "calculator-1.0.0", "calculator.js");
    await chmod(file, 0o644);
    await writeFile(file, (await readFile(file, "utf8")).replace("a + b", "a * b"));
    expect(codes(await refused({ dir }))).toEqual(["checksum-mismatch"]);
  });

  it("a file dropped into the directory", async () => {
    const dir = await copyOfRelease();
    await writeFile(path.join(dir, "notes.txt"), "hello");
    expect(r2(await refused({ dir }))).toEqual([["unlisted-file", "notes.txt"]]);
  });
});

function r2(r: { issues: readonly ReleaseIssue[] }) {
  return r.issues.map((i) => [i.code, "entry" in i ? i.entry : undefined]);
}
