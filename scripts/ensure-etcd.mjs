#!/usr/bin/env node
/**
 * `npm test`'s pretest step: the fleet tests start Debian's `etcd` (package etcd-server) on loopback.
 * Found (on PATH, or the binary RELUP_ETCD names): nothing to do. Missing, as root with apt-get: install
 * it (CI, and a fresh machine of ours). Missing otherwise: exit 1 with the exact command to run.
 * Plain Node (no tsx) so that it costs nothing when etcd is there.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";

const INSTALL = "apt-get update && apt-get install -y etcd-server";

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

if (process.env.RELUP_ETCD) {
  if (executable(process.env.RELUP_ETCD)) process.exit(0);
  console.error(`pretest: RELUP_ETCD=${process.env.RELUP_ETCD} is not an executable file. Fix: point it at an etcd binary, or unset it to use \`etcd\` from PATH (${INSTALL}).`);
  process.exit(1);
}
if (onPath("etcd")) process.exit(0);

const root = typeof process.getuid === "function" && process.getuid() === 0;
if (!root || !onPath("apt-get")) {
  const why = !root ? "not running as root" : "apt-get is not available";
  console.error(`pretest: the fleet tests need etcd, which is not installed (and this step cannot install it: ${why}).`);
  console.error(`Fix: install Debian's package etcd-server:\n  sudo sh -c '${INSTALL}'\nor set RELUP_ETCD to an etcd binary (v3.4 or later), then run the tests again.`);
  process.exit(1);
}
console.error(`pretest: etcd is missing; installing Debian's etcd-server: ${INSTALL}`);
const result = spawnSync("/bin/sh", ["-c", INSTALL], { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
if (result.status !== 0 || !onPath("etcd")) {
  console.error(`pretest: installing etcd-server failed (exit ${result.status ?? result.signal}). Fix: run \`${INSTALL}\` as root and read its output.`);
  process.exit(1);
}
