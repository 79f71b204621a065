/**
 * A release store is a URL: `file:///srv/releases` (a directory, for a shared volume; relup publishes
 * there), or `http(s)://host/releases` (an artifact server, read-only to relup: the operator's own tool
 * uploads to it). A release lives at `<store>/<name>/<name>-<version>.tar.gz`, its signature beside it
 * (`.sig.json`) and its publish record (`.published.json`, published-record.ts).
 */
import { FleetError } from "./issues.ts";
import { SIGNATURE_SUFFIX } from "./signature-file.ts";

export const RECORD_SUFFIX = ".published.json";

export type StoreUrl = URL & { protocol: "file:" | "http:" | "https:" };

/** Parse a store or release URL; anything but file:, http: and https: is refused (exit 2). */
export function parseStoreUrl(text: string, what = "--store"): StoreUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const fix = text.startsWith("/") || text.startsWith(".") ? `give it as a URL: \`${what} file://${text.startsWith("/") ? text : "/absolute/path"}\`` : `give a URL: \`${what} file:///srv/releases\` or \`${what} https://artifacts.example/releases\``;
    throw new FleetError([{ code: "bad-store", url: text, detail: "is not a URL", fix: `${fix}.` }]);
  }
  if (url.protocol !== "file:" && url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FleetError([{ code: "bad-store", url: text, detail: `has the scheme ${url.protocol}; a release store is a file://, http:// or https:// URL`, fix: "copy the releases to a directory (file://) or an HTTP server." }]);
  }
  if (url.protocol === "file:" && url.host !== "" && url.host !== "localhost") {
    throw new FleetError([{ code: "bad-store", url: text, detail: `names the host ${url.host}; a file:// store is a local directory`, fix: "write file:///path (three slashes), or mount the share and give its local path." }]);
  }
  return url as StoreUrl;
}

/** The URLs of a release's files in a store. */
export function releaseUrls(store: StoreUrl, release: { name: string; version: string }): { tarball: URL; signature: URL; record: URL } {
  const base = new URL(store.href.endsWith("/") ? store.href : `${store.href}/`);
  const stem = `${release.name}/${release.name}-${release.version}.tar.gz`;
  const tarball = new URL(stem, base);
  return { tarball, signature: new URL(`${stem}${SIGNATURE_SUFFIX}`, base), record: new URL(`${release.name}/${release.name}-${release.version}${RECORD_SUFFIX}`, base) };
}

/** A signature's URL beside a tarball URL: `.sig.json` added to its path, any query kept (a presigned link's own is not valid for it; give the signature's URL then). */
export function signatureUrlOf(tarball: URL): URL {
  const url = new URL(tarball.href);
  url.pathname = `${url.pathname}${SIGNATURE_SUFFIX}`;
  return url;
}
