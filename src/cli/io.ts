/** Where a command prints, and how it asks. The CLI passes the process streams; tests pass buffers. */
import readline from "node:readline/promises";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** colours only on a TTY and never with NO_COLOR (ARCHITECTURE §7) */
  color: boolean;
  /** whether stdout is a terminal (views for people are the default everywhere: see output-format.ts) */
  tty: boolean;
  /** the terminal's width, for help texts; undefined off a terminal */
  columns?: number | undefined;
  /** asks a person a question and resolves with the answer; absent when there is no one to ask (stdin is not a terminal) */
  ask?: ((question: string) => Promise<string>) | undefined;
}

export function processIo(env: NodeJS.ProcessEnv = process.env): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: Boolean(process.stdout.isTTY) && !("NO_COLOR" in env),
    tty: Boolean(process.stdout.isTTY),
    columns: process.stdout.columns,
    ask: process.stdin.isTTY ? ask : undefined,
  };
}

/** One question on the terminal: the prompt on stderr (stdout stays the command's output), the answer from stdin. */
async function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
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
