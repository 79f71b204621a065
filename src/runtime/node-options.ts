/**
 * `relup start --node-option <flag>`: the V8 and Node flags the launcher gives the node it starts (and
 * every node it restarts, and a restart_new_emulator successor). Only flags that tune the heap, make the
 * garbage collector visible or help a post-mortem are allowed; anything else is refused before anything
 * starts. What is left out, and why:
 * - flags that run or load code (`--require`, `--import`, `--eval`, `--loader`): the node runs its release,
 *   and nothing else, so that what runs is what was verified and installed;
 * - `--inspect*`, `--allow-natives-syntax`, `--expose-internals`: a debugger port or V8 internals in a
 *   production node are a way in;
 * - `--stack-size`: V8 trusts it, and a value above the thread's real stack crashes the node with a
 *   segmentation fault instead of a RangeError;
 * - flags that change how errors end the node (`--unhandled-rejections`, `--abort-on-uncaught-exception`):
 *   the node and its launcher decide that (a fatal error exits non-zero and the launcher restarts it).
 * NODE_OPTIONS in the launcher's environment still reaches the node as Node reads it; this list is for
 * what relup records and passes itself.
 */
import { ExitCode, UserError } from "../errors.ts";

/** A flag and the value it takes: none, a positive whole number (megabytes or a count), or a signal. */
const ALLOWED: Record<string, "none" | "count" | "signal"> = {
  "--max-old-space-size": "count",
  "--max-semi-space-size": "count",
  "--expose-gc": "none",
  "--trace-gc": "none",
  "--trace-gc-verbose": "none",
  "--heapsnapshot-near-heap-limit": "count",
  "--heap-snapshot-signal": "signal",
  "--enable-source-maps": "none",
};

/** Signals a heap snapshot may be taken on: SIGUSR1 starts the inspector, the others stop or reload a node. */
const SNAPSHOT_SIGNALS = ["SIGUSR2"];

/** The allowed flags as a user types them, for help and errors. */
export const ALLOWED_NODE_OPTIONS: readonly string[] = Object.entries(ALLOWED).map(([flag, value]) => (value === "none" ? flag : value === "count" ? `${flag}=N` : `${flag}=${SNAPSHOT_SIGNALS.join("|")}`));

/**
 * The flags, checked against the allow-list; the first that is not allowed (or has a bad value) is
 * refused with exit 2, naming it, the allowed list and the fix. Underscores are spelled as dashes (V8
 * accepts both), so each flag is recorded once in the form Node documents.
 */
export function checkNodeOptions(flags: readonly string[]): string[] {
  return flags.map((given) => {
    const [name = "", ...rest] = given.split("=");
    const flag = name.replaceAll("_", "-");
    const value = rest.length > 0 ? rest.join("=") : undefined;
    const kind = ALLOWED[flag];
    const refuse = (why: string) => {
      throw new UserError(`--node-option ${JSON.stringify(given)}: ${why}. The node may be given: ${ALLOWED_NODE_OPTIONS.join(", ")}. Fix: pass one of those (one per --node-option, e.g. \`--node-option --max-old-space-size=4096\`), or leave the flag out`, ExitCode.badInput);
    };
    if (kind === undefined) return refuse("not a flag relup passes to the node");
    if (kind === "none") return value === undefined ? flag : refuse(`${flag} takes no value`);
    if (kind === "count") return value !== undefined && /^[1-9][0-9]{0,6}$/.test(value) ? `${flag}=${value}` : refuse(`${flag} needs a positive whole number (${flag}=N)`);
    return value !== undefined && SNAPSHOT_SIGNALS.includes(value) ? `${flag}=${value}` : refuse(`${flag} needs one of ${SNAPSHOT_SIGNALS.join(", ")}`);
  });
}

/**
 * The command line's `--node-option X` as `--node-option=X`: the flag given is itself a dash option, which
 * a parser would otherwise read as one of relup's own.
 */
export function joinNodeOptions(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--") return [...joined, ...argv.slice(i)];
    if (argv[i] === "--node-option" && i + 1 < argv.length) joined.push(`--node-option=${argv[++i]}`);
    else joined.push(argv[i]!);
  }
  return joined;
}
