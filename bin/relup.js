#!/usr/bin/env node
// Runs the CLI from its TypeScript sources through tsx: no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
