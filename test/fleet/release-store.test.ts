/**
 * The release store: `relup fleet publish` with its real arguments into a file:// store, and the
 * node-side fetch from file:// and from a real HTTP server, pinned by sha256 and identity, with the
 * signature checked against trusted keys before anything is unpacked. Every refusal leaves nothing in
 * the node's directory.
 */
import { createHash } from "node:crypto";
import { appendFile, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { fetchRelease } from "../../src/fleet/fetch-release.ts";
import { FleetError } from "../../src/fleet/issues.ts";
import { PublishedRecord, pinOf, type ReleasePin } from "../../src/fleet/published-record.ts";
import { readTrustedKeys } from "../../src/fleet/signing-keys.ts";
import { parseStoreUrl, releaseUrls } from "../../src/fleet/store-url.ts";
import { craftTarball } from "../helpers/craft-tarball.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useStaticServers } from "../helpers/static-server.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

let built: string;
let v1: string;
let v2: string;
/** calculator 1.1.0 again, built from changed sources: the same version, other bytes */
let v2other: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-store-"));
  v1 = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: path.join(built, "a") })).tarball;
  v2 = (await buildRelease({ dir: "fixtures/calculator/1.1.0", out: path.join(built, "a") })).tarball;
  const src = path.join(built, "src");
  await cp("fixtures/calculator/1.1.0", src, { recursive: true });
  await appendFile(path.join(src, "apps", "calculator", "calculator.ts"), "\n// rebuilt\n");
  v2other = (await buildRelease({ dir: src, out: path.join(built, "b") })).tarball;
});
afterAll(() => rm(built, { recursive: true, force: true }));

const storeUrl = (dir: string) => pathToFileURL(dir).href;
const issueCodes = (error: unknown) => (error instanceof FleetError ? error.issues.map((i) => i.code) : [String(error)]);

describe("relup fleet publish", () => {
  const tempDir = useTempDirs();

  async function signedCopy(tarball: string) {
    const dir = await tempDir();
    const keys = path.join(dir, "keys");
    await relup(["keygen", "--out", keys]);
    const copy = path.join(dir, path.basename(tarball));
    await copyFile(tarball, copy);
    await relup(["sign", copy, "--key", path.join(keys, "relup-release.key")]);
    return { tarball: copy, pub: path.join(keys, "relup-release.pub") };
  }

  it("copies the tarball and its signature into <store>/<name>/ and records sha256 and identity", async () => {
    const store = path.join(await tempDir(), "store");
    const { tarball, pub } = await signedCopy(v2);
    const published = await relup(["fleet", "publish", tarball, "--store", storeUrl(store), "--trusted-key", pub]);
    expect(published.code).toBe(0);
    expect(published.stdout).toMatch(/^published calculator 1\.1\.0\n/);
    expect((await readdir(path.join(store, "calculator"))).sort()).toEqual(["calculator-1.1.0.published.json", "calculator-1.1.0.tar.gz", "calculator-1.1.0.tar.gz.sig.json"]);
    const record = PublishedRecord.parse(JSON.parse(await readFile(path.join(store, "calculator", "calculator-1.1.0.published.json"), "utf8")));
    expect(published.stdout).toContain(`sha256    ${record.tarball.sha256}`);
    expect(published.stdout).toContain(`identity  ${record.release.identity}`);
    expect(await readFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"))).toEqual(await readFile(tarball));
    expect(record.signature?.file).toBe("calculator-1.1.0.tar.gz.sig.json");

    const again = await relup(["fleet", "publish", tarball, "--store", storeUrl(store), "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ unchanged: true, release: record.release });
  });

  it("never changes a published version under its nodes unless --force", async () => {
    const store = path.join(await tempDir(), "store");
    expect((await relup(["fleet", "publish", v2, "--store", storeUrl(store)])).code).toBe(0);
    const before = await readFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"));
    const other = await relup(["fleet", "publish", v2other, "--store", storeUrl(store)]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("calculator-1.1.0.published.json: already exists");
    expect(other.stderr).toContain("--force");
    expect(await readFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"))).toEqual(before);
    const forced = await relup(["fleet", "publish", v2other, "--store", storeUrl(store), "--force"]);
    expect(forced.code).toBe(0);
    expect(await readFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"))).toEqual(await readFile(v2other));
  });

  it("refuses an unsigned release given trusted keys, an http store, another scheme and a bare path; the store stays empty", async () => {
    const dir = await tempDir();
    const store = path.join(dir, "store");
    const { pub } = await signedCopy(v1);
    const unsigned = await relup(["fleet", "publish", v2, "--store", storeUrl(store), "--trusted-key", pub]);
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain("is not signed");
    const http = await relup(["fleet", "publish", v2, "--store", "http://127.0.0.1:1/releases"]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain("relup reads but does not write");
    const ftp = await relup(["fleet", "publish", v2, "--store", "ftp://host/releases"]);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain("has the scheme ftp:");
    const directory = await relup(["fleet", "publish", v2.replace(/\.tar\.gz$/, ""), "--store", storeUrl(store)]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain("is a release directory");
    const bare = await relup(["fleet", "publish", v2, "--store", store]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`--store file://${store}`);
    expect(await readdir(dir)).not.toContain("store");
  });

  it("refuses a signature beside the tarball that signs another tarball", async () => {
    const { tarball } = await signedCopy(v1);
    const dir = path.dirname(tarball);
    const copy = path.join(dir, "calculator-1.1.0.tar.gz");
    await copyFile(v2, copy);
    await copyFile(`${tarball}.sig.json`, `${copy}.sig.json`);
    const result = await relup(["fleet", "publish", copy, "--store", storeUrl(path.join(dir, "store"))]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("tarball.sha256: signs the tarball");
  });
});

describe("fetching a release for a node", () => {
  const tempDir = useTempDirs();
  const serve = useStaticServers();

  /** A store with calculator 1.1.0 published, signed; its pin, trusted keys and the node's directory. */
  async function published(options: { sign?: boolean } = {}) {
    const dir = await tempDir();
    const keys = path.join(dir, "keys");
    await relup(["keygen", "--out", keys]);
    const tarball = path.join(dir, path.basename(v2));
    await copyFile(v2, tarball);
    if (options.sign !== false) await relup(["sign", tarball, "--key", path.join(keys, "relup-release.key")]);
    const store = path.join(dir, "store");
    const out = await relup(["fleet", "publish", tarball, "--store", storeUrl(store), "--json"]);
    const { urls, unchanged, ...printed } = JSON.parse(out.stdout) as { urls: { record: string }; unchanged: boolean };
    const record = PublishedRecord.parse(printed);
    expect(record).toEqual(JSON.parse(await readFile(new URL(urls.record), "utf8")));
    expect(unchanged).toBe(false);
    return { dir, store, record, pin: pinOf(record, "the test's record"), trusted: await readTrustedKeys([path.join(keys, "relup-release.pub")]), dest: path.join(dir, "node", "downloads"), keys };
  }
  const tarballUrl = (store: string, pin: ReleasePin) => releaseUrls(parseStoreUrl(store), pin).tarball.href;

  it("from a file:// store: the verified tarball in the node's directory, and nothing else", async () => {
    const { store, pin, dest } = await published();
    const fetched = await fetchRelease({ url: tarballUrl(storeUrl(store), pin), pin, dest });
    expect(fetched.tarball).toBe(path.join(dest, "calculator-1.1.0.tar.gz"));
    expect(fetched.release).toEqual({ name: pin.name, version: pin.version, identity: pin.identity });
    expect(fetched.sha256).toBe(pin.sha256);
    expect(await readdir(dest)).toEqual(["calculator-1.1.0.tar.gz"]);
  });

  it("from a real HTTP server, with the signature checked against the trusted keys and kept beside it", async () => {
    const { store, pin, dest, trusted } = await published();
    const server = await serve(store);
    const fetched = await fetchRelease({ url: `${server.url}/calculator/calculator-1.1.0.tar.gz`, pin, dest, trusted });
    expect(fetched.signature?.release.identity).toBe(pin.identity);
    expect((await readdir(dest)).sort()).toEqual(["calculator-1.1.0.tar.gz", "calculator-1.1.0.tar.gz.sig.json"]);
    expect(server.requests).toEqual(["/calculator/calculator-1.1.0.tar.gz", "/calculator/calculator-1.1.0.tar.gz.sig.json"]);
  });

  it("follows a redirect, as a presigned object-store link may answer", async () => {
    const { store, pin, dest } = await published();
    const server = await serve(store);
    server.override("/latest.tar.gz", 302, "/calculator/calculator-1.1.0.tar.gz");
    expect((await fetchRelease({ url: `${server.url}/latest.tar.gz`, pin, dest })).sha256).toBe(pin.sha256);
  });

  it("refuses a tarball changed in the store (its sha256 is not the pinned one) before reading anything in it", async () => {
    const { store, pin, dest, trusted } = await published();
    await appendFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"), Buffer.from([0]));
    const server = await serve(store);
    const error = await fetchRelease({ url: `${server.url}/calculator/calculator-1.1.0.tar.gz`, pin, dest, trusted }).catch((e: unknown) => e);
    expect(issueCodes(error)).toEqual(["pin-mismatch"]);
    expect((error as Error).message).toContain(`sha256 is `);
    expect((error as Error).message).toContain(`expected ${pin.sha256} (pinned by the test's record)`);
    expect(server.requests).toEqual(["/calculator/calculator-1.1.0.tar.gz"]);
    expect(await readdir(dest)).toEqual([]);
  });

  it("refuses an unsigned release, and one signed by an untrusted key, when keys are trusted", async () => {
    const unsigned = await published({ sign: false });
    const server = await serve(unsigned.store);
    const url = `${server.url}/calculator/calculator-1.1.0.tar.gz`;
    const error = await fetchRelease({ url, pin: unsigned.pin, dest: unsigned.dest, trusted: unsigned.trusted }).catch((e: unknown) => e);
    expect(issueCodes(error)).toEqual(["unsigned"]);
    expect((error as FleetError).exitCode).toBe(2);
    expect(await readdir(unsigned.dest)).toEqual([]);
    // Without trusted keys the pin alone is checked: the same release is accepted.
    expect((await fetchRelease({ url, pin: unsigned.pin, dest: unsigned.dest })).sha256).toBe(unsigned.pin.sha256);

    const signed = await published();
    const other = await published();
    const refused = await fetchRelease({ url: tarballUrl(storeUrl(signed.store), signed.pin), pin: signed.pin, dest: signed.dest, trusted: other.trusted }).catch((e: unknown) => e);
    expect(issueCodes(refused)).toEqual(["untrusted-key"]);
  });

  it("refuses a signature swapped for another release's, and an edited one", async () => {
    const { dir, store, pin, dest, trusted, keys } = await published();
    const sigFile = path.join(store, "calculator", "calculator-1.1.0.tar.gz.sig.json");
    const one = path.join(dir, "calculator-1.0.0.tar.gz");
    await copyFile(v1, one);
    await relup(["sign", one, "--key", path.join(keys, "relup-release.key")]);
    const good = await readFile(sigFile, "utf8");
    await copyFile(`${one}.sig.json`, sigFile);
    const url = tarballUrl(storeUrl(store), pin);
    expect(issueCodes(await fetchRelease({ url, pin, dest, trusted }).catch((e: unknown) => e))).toEqual(["other-tarball"]);
    await writeFile(sigFile, good.replace(/"version": "1.1.0"/, '"version": "1.1.1"'));
    expect(issueCodes(await fetchRelease({ url, pin, dest, trusted }).catch((e: unknown) => e))).toEqual(["bad-signature"]);
    expect(await readdir(dest)).toEqual([]);
  });

  it("refuses a release whose identity is not the pinned one, though its bytes are", async () => {
    const { store, pin, dest } = await published();
    const wrong = { ...pin, identity: "0".repeat(64) };
    const error = await fetchRelease({ url: tarballUrl(storeUrl(store), pin), pin: wrong, dest }).catch((e: unknown) => e);
    expect(issueCodes(error)).toEqual(["pin-mismatch"]);
    expect((error as Error).message).toContain(`identity is ${pin.identity}, expected ${"0".repeat(64)}`);
    expect(await readdir(dest)).toEqual([]);
  });

  it("runs the safe reader on what the pin allows: a hostile archive is refused and leaves nothing", async () => {
    const dir = await tempDir();
    const store = path.join(dir, "store");
    await mkdir(path.join(store, "calculator"), { recursive: true });
    const bytes = craftTarball([{ path: "calculator-1.1.0/", type: "Directory" }, { path: "calculator-1.1.0/release.json", type: "SymbolicLink", linkpath: "/etc/passwd" }]);
    await writeFile(path.join(store, "calculator", "calculator-1.1.0.tar.gz"), bytes);
    const pin: ReleasePin = { name: "calculator", version: "1.1.0", identity: "0".repeat(64), sha256: createHash("sha256").update(bytes).digest("hex"), source: "the test" };
    const dest = path.join(dir, "dest");
    const error = await fetchRelease({ url: tarballUrl(storeUrl(store), pin), pin, dest }).catch((e: unknown) => e);
    expect(issueCodes(error)).toEqual(["release"]);
    expect((error as Error).message).toContain("is a link to");
    expect(await readdir(dest)).toEqual([]);
  });

  it("a missing release, a server error and an oversized download are failures naming the URL; nothing is kept", async () => {
    const { store, pin, dest } = await published();
    const server = await serve(store);
    const missing = await fetchRelease({ url: `${server.url}/calculator/calculator-9.9.9.tar.gz`, pin, dest }).catch((e: unknown) => e);
    expect(issueCodes(missing)).toEqual(["fetch-failed"]);
    expect((missing as FleetError).exitCode).toBe(1);
    expect((missing as Error).message).toContain("HTTP 404");
    server.override("/broken.tar.gz", 500);
    const broken = await fetchRelease({ url: `${server.url}/broken.tar.gz`, pin, dest }).catch((e: unknown) => e);
    expect((broken as Error).message).toContain(`${server.url}/broken.tar.gz: the server answered HTTP 500`);
    const large = await fetchRelease({ url: tarballUrl(storeUrl(store), pin), pin, dest, maxBytes: 1000 }).catch((e: unknown) => e);
    expect(issueCodes(large)).toEqual(["too-large"]);
    const noFile = await fetchRelease({ url: storeUrl(path.join(store, "nope.tar.gz")), pin, dest }).catch((e: unknown) => e);
    expect((noFile as Error).message).toContain("no such file in the store");
    expect(await readdir(dest)).toEqual([]);
  });
});
