// The build's stateSchema reader runs relup's TypeScript sources through tsx, as the CLI does.
import { register } from "tsx/esm/api";

register();
await import("./state-shape-worker.ts");
