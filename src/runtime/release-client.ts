/**
 * The release handler of a running node, as library calls: one per command that asks the node (OTP's
 * release_handler functions called from a shell). Each resolves the root, checks it (controlRequest),
 * and answers with the node's typed result; a refusal is a RuntimeError carrying its issue.
 */
import path from "node:path";
import { controlRequest } from "./control-client.ts";

/** What the node runs: release, OS pid, uptime, applications, modules, processes, memory. */
export const nodeStatus = (root: string) => controlRequest(path.resolve(root), { cmd: "status" });

/** Every process of the node: pid, name, module, status, queue length. */
export const nodeProcesses = (root: string) => controlRequest(path.resolve(root), { cmd: "processes" });

/** Verify a release (a tarball or directory on this machine) and unpack it into the node's root. */
export const unpackRelease = (root: string, source: string) => controlRequest(path.resolve(root), { cmd: "unpack", source: path.resolve(source) });

/** Make the current release permanent: the node boots it from now on. */
export const makePermanent = (root: string, version: string) => controlRequest(path.resolve(root), { cmd: "permanent", version });

/** Delete an unpacked or old release from the root. */
export const removeRelease = (root: string, version: string, options: { force?: boolean } = {}) => controlRequest(path.resolve(root), { cmd: "remove", version, ...(options.force ? { force: true } : {}) });
