/** Where a command prints. The CLI passes the process streams; tests pass buffers. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** colours only on a TTY and never with NO_COLOR (ARCHITECTURE §7) */
  color: boolean;
  /** whether stdout is a terminal (views for people are the default everywhere: see output-format.ts) */
  tty: boolean;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: Boolean(process.stdout.isTTY) && !("NO_COLOR" in process.env),
    tty: Boolean(process.stdout.isTTY),
  };
}

export function bufferIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    color: false,
    tty: false,
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}
