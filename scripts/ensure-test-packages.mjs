#!/usr/bin/env node
/**
 * `npm test`'s pretest step (and `npm run demo:fleet`'s, for etcd alone: `ensure-test-packages.mjs etcd`): tests drive two programs from Debian, `etcd` (package etcd-server: the fleet
 * tests start it on loopback) and `chromium` (the browser tests of `relup observe`, through
 * playwright-core). Found (on PATH, or the binary RELUP_ETCD / RELUP_CHROMIUM names): nothing to do.
 * Missing, as root with apt-get: install them (CI, and a fresh machine of ours). Missing otherwise: exit 1
 * with the exact command to run. Plain Node (no tsx) so that it costs nothing when both are there.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

const ALL = [
  { binary: "etcd", env: "RELUP_ETCD", pkg: "etcd-server", usedBy: "the fleet tests and `npm run demo:fleet`" },
  { binary: "chromium", env: "RELUP_CHROMIUM", pkg: "chromium", usedBy: "the browser tests of relup observe" },
];
// Arguments name the programs wanted (`demo:fleet` needs only etcd); none: all of them.
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !ALL.some((program) => program.binary === name));
if (unknown.length > 0) {
  console.error(`ensure-test-packages: unknown program ${unknown.join(", ")}; known: ${ALL.map((program) => program.binary).join(", ")}`);
  process.exit(2);
}
const PROGRAMS = wanted.length === 0 ? ALL : ALL.filter((program) => wanted.includes(program.binary));

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  return (process.env.PATH ?? "").split(path.delimiter).filter(Boolean).some((dir) => executable(path.join(dir, name)));
}

const installCommand = (packages) => `apt-get update && apt-get install -y ${packages.join(" ")}`;

for (const program of PROGRAMS) {
  const given = process.env[program.env];
  if (given && !executable(given)) {
    console.error(`pretest: ${program.env}=${given} is not an executable file. Fix: point it at a ${program.binary} binary, or unset it to use \`${program.binary}\` from PATH (${installCommand([program.pkg])}).`);
    process.exit(1);
  }
}
const found = (program) => Boolean(process.env[program.env]) || onPath(program.binary);
const missing = PROGRAMS.filter((program) => !found(program));
if (missing.length === 0) process.exit(0);

const install = installCommand(missing.map((program) => program.pkg));
const root = typeof process.getuid === "function" && process.getuid() === 0;
if (!root || !onPath("apt-get")) {
  const why = !root ? "not running as root" : "apt-get is not available";
  for (const program of missing) console.error(`pretest: ${program.usedBy} need ${program.binary}, which is not installed (and this step cannot install it: ${why}).`);
  console.error(`Fix: install Debian's package${missing.length > 1 ? "s" : ""} ${missing.map((program) => program.pkg).join(" and ")}:\n  sudo sh -c '${install}'\nor set ${missing.map((program) => program.env).join(" / ")} to the binary, then run the command again.`);
  process.exit(1);
}
console.error(`pretest: ${missing.map((program) => program.binary).join(" and ")} missing; installing Debian's ${missing.map((program) => program.pkg).join(" and ")}: ${install}`);
const result = spawnSync("/bin/sh", ["-c", install], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
const still = missing.filter((program) => !found(program));
if (result.status !== 0 || still.length > 0) {
  console.error(`pretest: installing ${missing.map((program) => program.pkg).join(" and ")} failed (exit ${result.status ?? result.signal}). Fix: run \`${install}\` as root and read its output.`);
  process.exit(1);
}
