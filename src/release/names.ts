/**
 * Shared field schemas of the release model: names, versions, hashes.
 * Semver checks use the `semver` package so that "1.0" or "v1.0.0" are refused with a clear message.
 */
import semver from "semver";
import { z } from "zod";

/** Release and application names: lowercase, start with a letter, `[a-z0-9_-]`, as npm-safe directory names. */
/** Prefix of the canonical specifier of a release module in compiled code: `relup:calculator/math`. */
export const MODULE_SPECIFIER_PREFIX = "relup:";

export const AppName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, "must be lowercase letters, digits, '_' or '-', starting with a letter (at most 64)")
  .describe("Application or release name");

/** A module name is its path inside its application, without extension: `calculator`, `http/router`. */
export const ModuleName = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
    "must be a relative path of letters, digits, '_', '-' and '.', without extension",
  )
  .describe("Module name: its path inside the application, without extension");

/** A fully qualified module reference, `app/module`. */
export const ModuleRef = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*\/[A-Za-z0-9_][A-Za-z0-9_./-]*$/, "must be `app/module`")
  .describe("Fully qualified module: `<application>/<module>`");

export const Version = z
  .string()
  .refine((v) => semver.valid(v) === v, "must be a semver version such as 1.2.0")
  .describe("Semver version, e.g. 1.2.0");

export const VersionRange = z
  .string()
  .refine((v) => semver.validRange(v) !== null, "must be a semver range such as >=20")
  .describe("Semver range, e.g. >=20");

export const Sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex characters")
  .describe("sha256 of the file content, lowercase hex");

/** JSON values, for env defaults. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const Json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(Json), z.record(z.string(), Json)]),
);
