/**
 * Bytes from a store URL, for the fetch side: a file:// path or an http(s):// GET (redirects followed,
 * as a presigned object-store link may need). `downloadTo` streams into a file, hashing as it goes and
 * stopping past `maxBytes`; `downloadText` reads a small file (a signature, a record). Every failure is
 * a FleetError naming the URL; a missing file is `undefined` for downloadText (an unsigned release).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Digest } from "./hash-file.ts";
import { FleetError } from "./issues.ts";

export interface DownloadOptions {
  /** the whole request, connection to last byte (default 5 minutes) */
  timeoutMs?: number;
  maxBytes: number;
}

const FIX_FILE = "check that the store is mounted and the release was published there (`relup fleet publish`).";
const FIX_HTTP = "check the URL and that the artifact server serves it; a presigned link may have expired.";

/** Stream the URL's bytes into `file` (created, never replaced); its digest. */
export async function downloadTo(url: URL, file: string, options: DownloadOptions): Promise<Digest> {
  const hash = createHash("sha256");
  let bytes = 0;
  const out = await open(file, "wx", 0o600);
  try {
    for await (const chunk of await source(url, options.timeoutMs ?? 300_000)) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) throw new FleetError([{ code: "too-large", url: url.href, limit: options.maxBytes }]);
      hash.update(chunk);
      await out.write(chunk);
    }
    await out.sync();
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw failed(url, error);
  } finally {
    await out.close();
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** A small text file at the URL, or undefined if there is none (no such file; HTTP 404 or 410). */
export async function downloadText(url: URL, options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<string | undefined> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  if (url.protocol === "file:") {
    const text = await readFile(fileURLToPath(url)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw failed(url, error);
    });
    if (text !== undefined && text.length > maxBytes) throw new FleetError([{ code: "too-large", url: url.href, limit: maxBytes }]);
    return text?.toString("utf8");
  }
  const response = await get(url, options.timeoutMs ?? 60_000);
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of response.body ?? []) {
      bytes += (chunk as Uint8Array).length;
      if (bytes > maxBytes) throw new FleetError([{ code: "too-large", url: url.href, limit: maxBytes }]);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw failed(url, error);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function source(url: URL, timeoutMs: number): Promise<AsyncIterable<Buffer>> {
  if (url.protocol === "file:") return createReadStream(fileURLToPath(url)) as AsyncIterable<Buffer>;
  const response = await get(url, timeoutMs);
  if (!response.ok) {
    await response.body?.cancel();
    throw new FleetError([{ code: "fetch-failed", url: url.href, detail: `the server answered HTTP ${response.status} ${response.statusText}: no release there`.replace(" :", ":"), fix: FIX_HTTP }]);
  }
  if (!response.body) throw new FleetError([{ code: "fetch-failed", url: url.href, detail: `HTTP ${response.status} with no body`, fix: FIX_HTTP }]);
  const body = response.body;
  return (async function* () {
    for await (const chunk of body) yield Buffer.from(chunk as Uint8Array);
  })();
}

/** A GET that answered 2xx, or 404/410 (the caller decides); anything else is a FleetError. */
async function get(url: URL, timeoutMs: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (error) {
    throw failed(url, error);
  }
  if (response.ok || response.status === 404 || response.status === 410) return response;
  await response.body?.cancel();
  throw new FleetError([{ code: "fetch-failed", url: url.href, detail: `the server answered HTTP ${response.status} ${response.statusText}`.trimEnd(), fix: FIX_HTTP }]);
}

function failed(url: URL, error: unknown): FleetError {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code;
  if (e.name === "TimeoutError") return new FleetError([{ code: "fetch-failed", url: url.href, detail: "did not finish in time (timed out)", fix: FIX_HTTP }]);
  if (url.protocol === "file:") return new FleetError([{ code: "fetch-failed", url: url.href, detail: code === "ENOENT" ? "no such file in the store" : `cannot be read (${code ?? e.message})`, fix: FIX_FILE }]);
  return new FleetError([{ code: "fetch-failed", url: url.href, detail: `cannot be downloaded (${code ?? e.cause?.message ?? e.message})`, fix: FIX_HTTP }]);
}
