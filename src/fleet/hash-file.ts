/** The sha256 and size of a file's bytes, read as a stream (a tarball may be large). */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export interface Digest {
  sha256: string;
  bytes: number;
}

export async function hashFile(file: string): Promise<Digest> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}
