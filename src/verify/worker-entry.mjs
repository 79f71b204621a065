// The verify worker's entry: the worker runs relup's TypeScript sources through tsx, as the CLI does.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
