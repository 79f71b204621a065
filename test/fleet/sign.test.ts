/**
 * `relup keygen` and `relup sign` with their real arguments, and the signature check the fetch side
 * runs (verify-signature.ts): unsigned, edited, moved to another tarball, made with an untrusted key,
 * malformed; each refused with the file, the field and the fix, from the tarball's digest alone.
 */
import { appendFile, chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease } from "../../src/relup/build-with-plans.ts";
import { hashFile } from "../../src/fleet/hash-file.ts";
import { formatFleetIssue } from "../../src/fleet/issues.ts";
import { SignatureFile } from "../../src/fleet/signature-file.ts";
import { readTrustedKeys } from "../../src/fleet/signing-keys.ts";
import { verifySignature } from "../../src/fleet/verify-signature.ts";
import { relup } from "../helpers/relup-cli.ts";
import { useTempDirs } from "../helpers/temp-dir.ts";

let built: string;
let v1: string;
let v2: string;
beforeAll(async () => {
  built = await mkdtemp(path.join(os.tmpdir(), "relup-sign-"));
  v1 = (await buildRelease({ dir: "fixtures/calculator/1.0.0", out: built })).tarball;
  v2 = (await buildRelease({ dir: "fixtures/calculator/1.1.0", out: built })).tarball;
});
afterAll(() => rm(built, { recursive: true, force: true }));

const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe("relup keygen", () => {
  const tempDir = useTempDirs();

  it("writes an ed25519 pair, the private key 0600 in a new 0700 directory, and never replaces it without --force", async () => {
    const dir = path.join(await tempDir(), "keys");
    const first = await relup(["keygen", "--out", dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/key id\s+[0-9a-f]{64}/);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(path.join(dir, "relup-release.key"))).toBe(0o600);
    expect(await mode(path.join(dir, "relup-release.pub"))).toBe(0o644);
    const key = await readFile(path.join(dir, "relup-release.key"), "utf8");
    expect(key).toContain("BEGIN PRIVATE KEY");

    const again = await relup(["keygen", "--out", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${path.join(dir, "relup-release.key")}: already exists`);
    expect(again.stderr).toContain("--force");
    expect(await readFile(path.join(dir, "relup-release.key"), "utf8")).toBe(key);

    const forced = await relup(["keygen", "--out", dir, "--force", "--json"]);
    expect(forced.code).toBe(0);
    const pair = JSON.parse(forced.stdout) as { keyId: string; privateKeyFile: string };
    expect(await readFile(pair.privateKeyFile, "utf8")).not.toBe(key);
    expect(await mode(pair.privateKeyFile)).toBe(0o600);
  });

  it("--name names the files; a name with a slash is bad usage", async () => {
    const dir = await tempDir();
    expect((await relup(["keygen", "--out", dir, "--name", "ops-2026"])).code).toBe(0);
    expect((await stat(path.join(dir, "ops-2026.pub"))).isFile()).toBe(true);
    const bad = await relup(["keygen", "--out", dir, "--name", "../x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--name");
  });
});

describe("relup sign and the signature check", () => {
  const tempDir = useTempDirs();

  async function keys(name = "relup-release") {
    const dir = await tempDir();
    await relup(["keygen", "--out", dir, "--name", name]);
    return { key: path.join(dir, `${name}.key`), pub: path.join(dir, `${name}.pub`) };
  }
  async function copyOf(tarball: string) {
    const file = path.join(await tempDir(), path.basename(tarball));
    await copyFile(tarball, file);
    return file;
  }
  async function check(tarball: string, pubs: string[], signatureFile = `${tarball}.sig.json`) {
    const text = await readFile(signatureFile, "utf8").catch(() => undefined);
    return verifySignature({ tarball, digest: await hashFile(tarball), signatureFile, text, trusted: await readTrustedKeys(pubs) });
  }

  it("writes <tarball>.sig.json over the tarball's sha256 and the release's identity, which verifies with the public key", async () => {
    const { key, pub } = await keys();
    const tarball = await copyOf(v2);
    const signed = await relup(["sign", tarball, "--key", key]);
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain(`signed calculator 1.1.0`);
    const file = SignatureFile.parse(JSON.parse(await readFile(`${tarball}.sig.json`, "utf8")));
    expect(file.release).toMatchObject({ name: "calculator", version: "1.1.0" });
    expect(file.tarball).toEqual(await hashFile(tarball));
    const result = await check(tarball, [pub]);
    expect(result.ok).toBe(true);
    // ed25519 is deterministic: the same key and tarball give the same file.
    expect((await relup(["sign", tarball, "--key", key])).stdout).toContain("already signed");
  });

  it("refuses an unsigned tarball when keys are trusted", async () => {
    const { pub } = await keys();
    const tarball = await copyOf(v2);
    const result = await check(tarball, [pub]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.code)).toEqual(["unsigned"]);
    expect(formatFleetIssue(result.issues[0]!)).toContain(`${tarball}: is not signed`);
  });

  it("refuses a signature whose fields were edited (bad-signature), naming the key", async () => {
    const { key, pub } = await keys();
    const tarball = await copyOf(v2);
    await relup(["sign", tarball, "--key", key]);
    const file = JSON.parse(await readFile(`${tarball}.sig.json`, "utf8")) as SignatureFile;
    await writeFile(`${tarball}.sig.json`, JSON.stringify({ ...file, release: { ...file.release, version: "1.2.0" } }));
    const result = await check(tarball, [pub]);
    expect(!result.ok && result.issues.map((i) => i.code)).toEqual(["bad-signature"]);
    expect(!result.ok && formatFleetIssue(result.issues[0]!)).toContain("signature: does not verify with key");
  });

  it("refuses a valid signature of another tarball, and a tarball changed after signing", async () => {
    const { key, pub } = await keys();
    const one = await copyOf(v1);
    const two = await copyOf(v2);
    await relup(["sign", one, "--key", key]);
    const moved = await check(two, [pub], `${one}.sig.json`);
    expect(!moved.ok && moved.issues.map((i) => i.code)).toEqual(["other-tarball"]);
    expect(!moved.ok && formatFleetIssue(moved.issues[0]!)).toContain("tarball.sha256: signs the tarball");
    await appendFile(one, Buffer.from([0]));
    const changed = await check(one, [pub]);
    expect(!changed.ok && changed.issues.map((i) => i.code)).toEqual(["other-tarball"]);
  });

  it("refuses a signature made with a key that is not trusted", async () => {
    const signer = await keys("signer");
    const other = await keys("other");
    const tarball = await copyOf(v2);
    await relup(["sign", tarball, "--key", signer.key]);
    const result = await check(tarball, [other.pub]);
    expect(!result.ok && result.issues.map((i) => i.code)).toEqual(["untrusted-key"]);
    expect(!result.ok && formatFleetIssue(result.issues[0]!)).toContain("which is not trusted here");
    // The same signature passes where the signer's key is trusted too (a directory of .pub files).
    expect((await check(tarball, [path.dirname(signer.pub), other.pub])).ok).toBe(true);
  });

  it("refuses a malformed signature file, naming the field", async () => {
    const { key, pub } = await keys();
    const tarball = await copyOf(v2);
    await relup(["sign", tarball, "--key", key]);
    const file = JSON.parse(await readFile(`${tarball}.sig.json`, "utf8")) as SignatureFile;
    await writeFile(`${tarball}.sig.json`, JSON.stringify({ ...file, algorithm: "rsa" }));
    const result = await check(tarball, [pub]);
    expect(!result.ok && formatFleetIssue(result.issues[0]!)).toMatch(/\.sig\.json: algorithm: .*Fix: sign the tarball again/);
    await writeFile(`${tarball}.sig.json`, "{");
    const broken = await check(tarball, [pub]);
    expect(!broken.ok && formatFleetIssue(broken.issues[0]!)).toContain("is not valid JSON");
  });

  it("refuses a private key others can read, a public key given as the key, a directory, and a broken tarball; writes nothing", async () => {
    const { key, pub } = await keys();
    const tarball = await copyOf(v2);
    await chmod(key, 0o644);
    const open = await relup(["sign", tarball, "--key", key]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(`chmod 600 ${key}`);
    await chmod(key, 0o600);
    const wrongHalf = await relup(["sign", tarball, "--key", pub]);
    expect(wrongHalf.code).toBe(2);
    expect(wrongHalf.stderr).toContain(`${pub}: has mode`);
    const dir = await relup(["sign", path.join(built, "calculator-1.1.0"), "--key", key]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain("is a release directory");
    await appendFile(tarball, Buffer.from("junk"));
    const broken = await relup(["sign", tarball, "--key", key]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain("after the end of its gzip stream");
    await expect(stat(`${tarball}.sig.json`)).rejects.toThrow();
  });

  it("a trusted-key file that holds a private key is refused", async () => {
    const { key } = await keys();
    await expect(readTrustedKeys([key])).rejects.toThrow(/holds a private key/);
  });
});
