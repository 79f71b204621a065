/**
 * ed25519 signing keys for releases, through node:crypto: a key pair written as PEM files (the private
 * key PKCS#8, mode 0600; the public key SPKI, mode 0644), read back with checks, and each public key's
 * id: the sha256 of its DER encoding (SPKI), in hex. A signature names its key by that id.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmod, lstat, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { FleetError, type FleetIssue } from "./issues.ts";

export const PRIVATE_KEY_MODE = 0o600;
export const PUBLIC_KEY_MODE = 0o644;
export const DEFAULT_KEY_NAME = "relup-release";

/** The id of a public key: sha256 of its SPKI DER, hex. */
export function keyId(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

export interface WrittenKeyPair {
  privateKeyFile: string;
  publicKeyFile: string;
  keyId: string;
}

/**
 * Write a new key pair as DIR/NAME.key and DIR/NAME.pub. Neither file is replaced unless `force`: a
 * lost private key cannot be made again, and releases signed with it would be refused by nodes given
 * the new public key. Each file appears whole (written beside it, then renamed) with its mode set.
 */
export async function writeKeyPair(options: { dir: string; name?: string; force?: boolean }): Promise<WrittenKeyPair> {
  const name = options.name ?? DEFAULT_KEY_NAME;
  const privateKeyFile = path.resolve(options.dir, `${name}.key`);
  const publicKeyFile = path.resolve(options.dir, `${name}.pub`);
  if (!options.force) {
    const existing: FleetIssue[] = [];
    for (const file of [privateKeyFile, publicKeyFile]) {
      if (await lstat(file).catch(() => undefined)) existing.push({ code: "exists", file, fix: "keep that key (releases signed with it are trusted by its .pub), write the new pair elsewhere with `--out DIR` or `--name NAME`, or replace it with `--force`." });
    }
    if (existing.length > 0) throw new FleetError(existing);
  }
  // A new directory holds a private key: only its owner may list it.
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  await writeWhole(privateKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }) as string, PRIVATE_KEY_MODE);
  await writeWhole(publicKeyFile, publicKey.export({ type: "spki", format: "pem" }) as string, PUBLIC_KEY_MODE);
  return { privateKeyFile, publicKeyFile, keyId: keyId(publicKey) };
}

/** Write beside the file with its mode (never wider: the temporary file is made with it), then rename. */
async function writeWhole(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await chmod(temp, mode);
  await rename(temp, file);
}

/** The private key of `relup sign`: an ed25519 PKCS#8 PEM file that only its owner can read. */
export async function readPrivateKey(file: string): Promise<{ privateKey: KeyObject; keyId: string }> {
  const info = await lstat(file).catch(() => undefined);
  if (!info) throw keyError(file, "not found", "give the private key `relup keygen` wrote (NAME.key).");
  if (!info.isFile()) throw keyError(file, "is not a regular file", "give the private key file itself, not a link or a directory.");
  if ((info.mode & 0o077) !== 0) throw keyError(file, `has mode ${(info.mode & 0o777).toString(8).padStart(4, "0")}: other users can read the private key`, `\`chmod 600 ${file}\` (and consider the key exposed if others could read it), then sign again.`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(file));
  } catch (error) {
    throw keyError(file, `is not a private key in PEM (${(error as Error).message})`, "give the NAME.key file `relup keygen` wrote; NAME.pub is the public half, for the nodes.");
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw keyError(file, `is a ${privateKey.asymmetricKeyType} key; releases are signed with ed25519`, "make a key pair with `relup keygen`.");
  return { privateKey, keyId: keyId(createPublicKey(privateKey)) };
}

/** A trusted public key: an ed25519 SPKI PEM file (a private key given by mistake is refused). */
export async function readPublicKey(file: string): Promise<{ publicKey: KeyObject; keyId: string; file: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw keyError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, "give the NAME.pub file `relup keygen` wrote.");
  }
  if (text.includes("PRIVATE KEY")) throw keyError(file, "holds a private key; a node is given only public keys", "give the NAME.pub file beside it, and keep NAME.key off the nodes.");
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch (error) {
    throw keyError(file, `is not a public key in PEM (${(error as Error).message})`, "give the NAME.pub file `relup keygen` wrote.");
  }
  if (publicKey.asymmetricKeyType !== "ed25519") throw keyError(file, `is a ${publicKey.asymmetricKeyType} key; releases are signed with ed25519`, "give the NAME.pub file `relup keygen` wrote.");
  return { publicKey, keyId: keyId(publicKey), file };
}

/** The keys a node or a command trusts, by id. */
export type TrustedKeys = ReadonlyMap<string, { publicKey: KeyObject; file: string }>;

/** Read trusted keys from .pub files and from directories (every `*.pub` in them). */
export async function readTrustedKeys(sources: readonly string[]): Promise<TrustedKeys> {
  const keys = new Map<string, { publicKey: KeyObject; file: string }>();
  for (const source of sources) {
    const info = await lstat(source).catch(() => undefined);
    const files = info?.isDirectory() ? (await readdir(source)).filter((f) => f.endsWith(".pub")).sort().map((f) => path.join(source, f)) : [source];
    if (info?.isDirectory() && files.length === 0) throw keyError(source, "is a directory with no .pub file", "put the trusted public keys (NAME.pub from `relup keygen`) there, or name the files.");
    for (const file of files) {
      const key = await readPublicKey(file);
      keys.set(key.keyId, { publicKey: key.publicKey, file: key.file });
    }
  }
  return keys;
}

function keyError(file: string, detail: string, fix: string): FleetError {
  return new FleetError([{ code: "bad-key", file, detail, fix }]);
}
