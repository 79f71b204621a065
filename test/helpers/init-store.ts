/**
 * The store of the project `relup init` writes, changed the way its README says a user changes it: the
 * counts become a plain object (vsn 2, a new stateSchema), converted both ways by codeChange.
 */
export const STORE_VSN_2 = `import { defineServer, z } from "relup/runtime";

export const behaviour = "server";
export const vsn = 2;
export const stateSchema = z.object({ counts: z.record(z.string(), z.int().min(1)) });

type State = z.infer<typeof stateSchema>;
interface StateV1 {
  counts: Map<string, number>;
}
export type Request = { op: "count"; key: string } | { op: "peek"; key: string };

export const { init, handleCall, codeChange } = defineServer<State, Request, number>({
  init: () => ({ counts: {} }),
  handleCall: (request, _from, state) => {
    const count = state.counts[request.key] ?? 0;
    if (request.op === "peek") return { reply: count, state };
    return { reply: count + 1, state: { counts: { ...state.counts, [request.key]: count + 1 } } };
  },
  codeChange: (oldVsn, state: State | StateV1) => {
    if (oldVsn === 1) return { counts: Object.fromEntries((state as StateV1).counts) };
    return { counts: new Map(Object.entries((state as State).counts)) };
  },
});
`;

