/** Wait until a file contains a text, on the file system's change events (fs.watch on its directory), never by sleeping. */
import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export async function waitForText(file: string, text: string, timeoutMs = 20_000): Promise<void> {
  const watcher = watch(path.dirname(file));
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${file} did not contain ${JSON.stringify(text)} within ${timeoutMs} ms`)), timeoutMs);
      const check = () =>
        void readFile(file, "utf8").then(
          (content) => content.includes(text) && resolve(),
          () => undefined,
        );
      watcher.on("change", check);
      watcher.on("error", reject);
      check();
    });
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
}
