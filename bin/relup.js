#!/usr/bin/env node
// The repository's runner: the CLI from its TypeScript sources through tsx, with no build step (tests,
// the demo, development). The published package's `bin` is the compiled CLI, dist/cli/main.js.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
