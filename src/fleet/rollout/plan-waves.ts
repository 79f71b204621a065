/**
 * The waves of a rollout: the canary first (the first `canary` nodes by id), then waves of `size` nodes
 * (a count, or a share of the whole group such as "25%", rounded up, at least one), in id order. The
 * same nodes and options always give the same waves.
 */
import { ExitCode, UserError } from "../../errors.ts";

/** `--waves`: a node count ("2") or a share of the group ("25%"); a UserError (exit 2) otherwise. */
export function parseWaveSize(text: string): string {
  const t = String(text).trim();
  const percent = /^(\d+)%$/.exec(t);
  if (percent ? Number(percent[1]) >= 1 && Number(percent[1]) <= 100 : /^[1-9]\d*$/.test(t)) return t;
  throw new UserError(`--waves ${JSON.stringify(String(text))} is not a wave size. Fix: a number of nodes (\`--waves 2\`) or a share of the group from 1% to 100% (\`--waves 25%\`).`, ExitCode.badInput);
}

/** The nodes of each wave, in order: [canary, wave 1, wave 2, …]; no empty wave. */
export function planWaves(nodeIds: readonly string[], canary: number, waves: string): string[][] {
  const ids = [...new Set(nodeIds)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const percent = /^(\d+)%$/.exec(waves);
  const size = Math.max(1, percent ? Math.ceil((ids.length * Number(percent[1])) / 100) : Number(waves));
  const out: string[][] = [];
  const first = ids.slice(0, Math.min(canary, ids.length));
  if (first.length > 0) out.push(first);
  for (let i = first.length; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}
